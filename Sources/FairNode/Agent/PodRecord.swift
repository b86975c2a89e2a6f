import FairKube
import Foundation

/// Why a container is not running, as its status says (`waiting.reason`/`message`).
struct WaitingReason: Equatable {
    var reason: String
    var message: String?
}

/// What the agent keeps in memory about one container beyond what survives a restart: probe
/// tallies and a stop in progress belong to the current instance and start afresh.
struct ContainerProgress {
    /// The instance the probes below belong to.
    var instance: String?
    var readiness: ProbeState?
    var liveness: ProbeState?
    var waiting: WaitingReason?
    /// A liveness failure is stopping the instance: SIGKILL once this passes.
    var killAt: Date?
    var killSent = false
    /// Image pull failures: the delay before the next try, and when it may happen.
    var pullBackOff: TimeInterval = 0
    var pullNotBefore: Date?
    /// Attempt counter for image pulls, so a retry asks the runtime again.
    var pullAttempt = 0
}

/// One pod on this node: the last API object seen, what must survive restarts, and the progress
/// of its containers. Only the pod's own sync (one at a time, per uid) changes it.
final class PodRecord {
    let uid: String
    var pod: JSONValue?
    var persisted: PersistedPod
    var progress: [String: ContainerProgress] = [:]
    /// The status fields last written, so an unchanged status is not written again.
    var lastWrittenStatus: JSONValue?
    var startTime: String?
    /// Deletion under way: SIGKILL whatever still runs after this.
    var terminationDeadline: Date?
    var killSent = false

    init(persisted: PersistedPod) {
        uid = persisted.uid
        self.persisted = persisted
    }

    var namespace: String { persisted.namespace }
    var name: String { persisted.name }
    var key: String { "\(namespace)/\(name)" }
}

/// What the log server and the runtime relist may read about a pod while its sync runs.
struct PodSnapshot: Sendable {
    struct Container: Sendable {
        var restartCount: Int
        var containerID: String?
        /// The sync last saw this instance running.
        var running: Bool
    }

    var uid: String
    var namespace: String
    var name: String
    var containers: [String: Container]
}
