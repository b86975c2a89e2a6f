import FairKube
import Foundation

/// `fair train --schedule`: the Job `fair train` would submit, as the template of a batch/v1
/// CronJob, so each scheduled run trains the same image and stores the next version of the
/// model (`models/NAME:vN`). Runs never overlap (`Forbid`): a retraining that outlasts its
/// interval is not stacked on by the next.
public struct ScheduledTraining: Sendable {
    public var schedule: String
    public var timeZone: String?
    /// kube's limit: a CronJob's name leaves room for the 11-character suffix of its Jobs.
    public static let maximumNameLength = 52

    public init(schedule: String, timeZone: String?) {
        self.schedule = schedule
        self.timeZone = timeZone
    }

    /// The CronJob around `job` (its metadata's name, namespace, labels and annotations, its spec).
    public func cronJob(wrapping job: JSONValue) -> JSONValue {
        var spec: JSONValue = [
            "schedule": .string(schedule),
            "concurrencyPolicy": "Forbid",
            "jobTemplate": [
                "metadata": [
                    "labels": job.value(at: "metadata.labels") ?? [:],
                    "annotations": job.value(at: "metadata.annotations") ?? [:],
                ],
                "spec": job["spec"] ?? [:],
            ],
        ]
        if let timeZone { spec["timeZone"] = .string(timeZone) }
        return [
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": [
                "name": job.value(at: "metadata.name") ?? "", "namespace": job.value(at: "metadata.namespace") ?? "",
                "labels": job.value(at: "metadata.labels") ?? [:],
                "annotations": job.value(at: "metadata.annotations") ?? [:],
            ],
            "spec": spec,
        ]
    }
}
