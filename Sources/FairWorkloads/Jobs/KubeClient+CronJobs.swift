import FairKube
import Foundation

extension KubeClient {
    /// The CronJob named so, or nil when there is none (a scheduled training, for `fair status`
    /// and `fair logs` given its name).
    public func cronJob(_ name: String, namespace: String) throws -> JSONValue? {
        do {
            return try get(.cronJobs, namespace: namespace, name: name)
        } catch let error as KubeError where error.code == 404 {
            return nil
        }
    }

    /// The Jobs a CronJob made (its controller reference), oldest first.
    public func jobs(ofCronJob cronJob: JSONValue, namespace: String) throws -> [JSONValue] {
        let uid = cronJob.value(at: "metadata.uid")?.stringValue
        let jobs = try list(.jobs, namespace: namespace)["items"]?.arrayValue ?? []
        return jobs.filter { job in
            (job.value(at: "metadata.ownerReferences")?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid && $0["controller"]?.boolValue == true }
        }.sorted {
            ($0.value(at: "metadata.creationTimestamp")?.stringValue ?? "", $0.name ?? "")
                < ($1.value(at: "metadata.creationTimestamp")?.stringValue ?? "", $1.name ?? "")
        }
    }
}
