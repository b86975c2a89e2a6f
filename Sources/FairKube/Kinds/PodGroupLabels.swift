/// The labels that make pods a group that starts together (gang scheduling), as
/// scheduler-plugins' lightweight coscheduling reads them; fair's scheduler honours them, and
/// `fair train --workers` sets them. One place, so the scheduler, the follower that must not
/// take a group's wait for a failure, and the template agree.
public enum PodGroupLabels {
    public static let name = "pod-group.scheduling.sigs.k8s.io/name"
    public static let minAvailable = "pod-group.scheduling.sigs.k8s.io/min-available"
    /// Ends the message of a pod whose group is still missing pods (its Job is making them):
    /// a wait, not a problem.
    public static let waitingForTheRest = "waiting for the rest"
}
