import FairKube

/// The fields of a Job spec the controller acts on, with Kubernetes' defaults.
struct EffectiveJobSpec {
    let parallelism: Int64
    /// Nil for a work queue (any success ends the Job once the others stop).
    let completions: Int64?
    let backoffLimit: Int64
    let activeDeadlineSeconds: Int64?
    let suspend: Bool
    let restartPolicy: String
    /// `completionMode: Indexed` (see `JobIndexes`); it always has `completions`.
    let indexed: Bool
    /// Retries each index gets on its own (Indexed Jobs only); an index that fails more often
    /// is failed for good, and the other indexes go on.
    let backoffLimitPerIndex: Int64?
    /// With `backoffLimitPerIndex`: more failed indexes than this fail the whole Job at once.
    let maxFailedIndexes: Int64?

    init(_ job: JSONValue) {
        let spec = Job(json: job).spec
        parallelism = max(0, spec.parallelism ?? 1)
        let completions = spec.completions
        self.completions = completions == nil ? 1 : completions?.intValue
        backoffLimit = max(0, spec.backoffLimitOrDefault)
        activeDeadlineSeconds = spec.activeDeadlineSeconds
        suspend = spec.suspend ?? false
        restartPolicy = spec.template.spec.restartPolicy ?? "Never"
        indexed = spec.json["completionMode"]?.stringValue == "Indexed" && completions?.intValue != nil
        backoffLimitPerIndex = indexed ? spec.backoffLimitPerIndex.map { max(0, $0) } : nil
        maxFailedIndexes = backoffLimitPerIndex == nil ? nil : spec.json["maxFailedIndexes"]?.intValue
    }
}
