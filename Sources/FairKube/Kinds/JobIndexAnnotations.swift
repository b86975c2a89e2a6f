/// What an Indexed Job's pods carry, as kube's Job controller writes it: the bundled controller
/// sets them, `fair train` reads them to name ranks and attempts.
public enum JobIndexAnnotations {
    /// The pod's index (also a label), `JOB_COMPLETION_INDEX` in its containers.
    public static let completionIndex = "batch.kubernetes.io/job-completion-index"
    /// With `backoffLimitPerIndex`: the failures of the pod's index before it.
    public static let failureCount = "batch.kubernetes.io/job-index-failure-count"
}
