/// What an Indexed Job's pods carry, as kube's Job controller writes it: the bundled controller
/// sets them, `fair train` reads them to name ranks and attempts.
public enum JobIndexAnnotations {
    /// The pod's index (also a label), `JOB_COMPLETION_INDEX` in its containers.
    public static let completionIndex = "batch.kubernetes.io/job-completion-index"
    /// With `backoffLimitPerIndex`: the failures of the pod's index before it.
    public static let failureCount = "batch.kubernetes.io/job-index-failure-count"

    /// The index the pod runs; nil for a pod of no Indexed Job.
    public static func index(of pod: JSONValue) -> Int? {
        guard let text = pod.value(at: "metadata.annotations")?[completionIndex]?.stringValue, let index = Int(text), index >= 0 else { return nil }
        return index
    }

    /// The failures of its index the pod says came before it; 0 when it says none.
    public static func earlierFailures(of pod: JSONValue) -> Int {
        guard let text = pod.value(at: "metadata.annotations")?[failureCount]?.stringValue, let count = Int(text) else { return 0 }
        return max(0, count)
    }
}
