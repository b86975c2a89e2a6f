import FairKube
import Foundation

/// Why a pod cannot make progress on its own: what `fair train` reports at once instead of
/// waiting for a Job that will never start (the scheduler found no node, the image cannot be
/// pulled, the container cannot be created).
public struct PodProblem: Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var message: String

    public var description: String { "\(reason): \(message)" }

    /// Waiting reasons a node agent only leaves behind when retrying will not help by itself.
    public static let stuckWaitingReasons: Set<String> = [
        "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
        "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
    ]

    /// A cluster with no node at all is most often one whose node is still registering (a
    /// `fair server` just started): that wait counts as a problem only this long after the pod
    /// was made.
    public static let noNodesGrace: TimeInterval = 30

    /// The first problem `pod` shows, if any.
    public static func detect(in pod: JSONValue, now: Date = Date()) -> PodProblem? {
        for condition in pod.value(at: "status.conditions")?.arrayValue ?? [] where
            condition["type"]?.stringValue == "PodScheduled" && condition["status"]?.stringValue == "False"
            && condition["reason"]?.stringValue == "Unschedulable" {
            let message = condition["message"]?.stringValue ?? ""
            // A pod group's pod waits while its Job is still making the others.
            if pod.labels[PodGroupLabels.name] != nil && message.hasSuffix(PodGroupLabels.waitingForTheRest) { continue }
            if message.hasPrefix("0/0 nodes are available"), let created = KubeTime.parse(pod.value(at: "metadata.creationTimestamp")),
               now.timeIntervalSince(created) < noNodesGrace { continue }
            return PodProblem(reason: "Unschedulable", message: condition["message"]?.stringValue ?? "no node can run the pod")
        }
        for status in pod.allContainerStatuses {
            guard let waiting = status.value(at: "state.waiting"), let reason = waiting["reason"]?.stringValue,
                  stuckWaitingReasons.contains(reason) else { continue }
            let container = status["name"]?.stringValue ?? "?"
            let detail = waiting["message"]?.stringValue ?? "image \(status["image"]?.stringValue ?? "?")"
            return PodProblem(reason: reason, message: "container \(container): \(detail)")
        }
        return nil
    }
}
