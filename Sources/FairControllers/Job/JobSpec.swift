import FairKube

/// The fields of a Job spec the controller acts on, with Kubernetes' defaults.
struct JobSpec {
    let parallelism: Int64
    /// Nil for a work queue (any success ends the Job once the others stop).
    let completions: Int64?
    let backoffLimit: Int64
    let activeDeadlineSeconds: Int64?
    let suspend: Bool
    let restartPolicy: String

    init(_ job: JSONValue) {
        parallelism = max(0, job.value(at: "spec.parallelism")?.intValue ?? 1)
        let completions = job.value(at: "spec.completions")
        self.completions = completions == nil ? 1 : completions?.intValue
        backoffLimit = max(0, job.value(at: "spec.backoffLimit")?.intValue ?? 6)
        activeDeadlineSeconds = job.value(at: "spec.activeDeadlineSeconds")?.intValue
        suspend = job.value(at: "spec.suspend")?.boolValue ?? false
        restartPolicy = job.value(at: "spec.template.spec.restartPolicy")?.stringValue ?? "Never"
    }
}
