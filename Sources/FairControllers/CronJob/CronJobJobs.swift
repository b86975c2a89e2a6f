import FairKube
import Foundation

/// The Jobs of a CronJob: how one is made from the template for a scheduled time, how it is
/// named, and how finished ones are told apart and ordered for pruning.
enum CronJobJobs {
    /// The time a Job was scheduled for, RFC 3339 in the CronJob's `timeZone` (UTC without one).
    static let scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

    /// `NAME-MINUTES`, minutes since the epoch of the scheduled time: the same time always gives
    /// the same name, so a Job created twice (a restart between creating it and writing the
    /// status) is refused the second time instead of running twice.
    static func name(of cronJob: String, scheduled: Date) -> String {
        "\(cronJob)-\(Int64(scheduled.timeIntervalSince1970.rounded(.down)) / 60)"
    }

    /// A Job from the CronJob's `jobTemplate`: its labels, annotations and spec, the scheduled
    /// time, and the CronJob as its controller.
    static func job(for cronJob: JSONValue, scheduled: Date, timeZone: TimeZone?) -> JSONValue {
        let template = CronJob(json: cronJob).spec.jobTemplate
        var job = Job(json: ["apiVersion": .string(KindDefinition.job.apiVersion), "kind": .string(KindDefinition.job.kind)])
        var metadata = ObjectMeta()
        metadata.name = name(of: cronJob.name ?? "", scheduled: scheduled)
        metadata.namespace = cronJob.namespace
        metadata.labels = template.metadata.labels
        var annotations = template.metadata.annotations
        annotations[scheduledTimestampAnnotation] = KubeTime.format(scheduled, in: timeZone ?? CronTimeZone.utc)
        metadata.annotations = annotations
        metadata.ownerReferences = [OwnerReference(json: OwnerKind.cronJob.controllerReference(to: cronJob))]
        job.metadata = metadata
        job.spec = template.spec
        return job.json
    }

    /// `Complete` or `Failed` once the Job has finished; nil while it runs.
    static func finished(_ job: JSONValue) -> String? {
        Job(json: job).status.conditions.first { ($0.type == "Complete" || $0.type == "Failed") && $0.isTrue }?.type
    }

    /// Oldest first, by `status.startTime` (Jobs that never started last), then by name.
    static func byStartTime(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        let left = Job(json: lhs).status.startTime, right = Job(json: rhs).status.startTime
        switch (left, right) {
        case let (left?, right?) where left != right: return left < right
        case (nil, _?): return false
        case (_?, nil): return true
        default: return (lhs.name ?? "") < (rhs.name ?? "")
        }
    }
}
