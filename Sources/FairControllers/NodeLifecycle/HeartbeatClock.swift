import FairKube
import Foundation

/// How long each node has been silent, by this controller's clock: the later of the node's own
/// `lastHeartbeatTime` and the moment this controller first saw that heartbeat. So a restart of
/// the control plane gives every node a full grace period before it is declared lost.
final class HeartbeatClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: (heartbeat: String, at: Date)] = [:]

    func silence(of node: JSONValue, now: Date) -> TimeInterval {
        let ready = node.condition("Ready")
        let heartbeat = ready?["lastHeartbeatTime"]?.stringValue ?? node.value(at: "metadata.creationTimestamp")?.stringValue ?? ""
        let name = node.name ?? ""
        lock.lock()
        if seen[name]?.heartbeat != heartbeat { seen[name] = (heartbeat, now) }
        let observedAt = seen[name]?.at ?? now
        lock.unlock()
        let reported = KubeTime.parse(heartbeat) ?? observedAt
        return now.timeIntervalSince(max(reported, observedAt))
    }

    func forget(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        seen[name] = nil
    }
}
