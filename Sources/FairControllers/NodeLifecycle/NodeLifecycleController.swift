import FairKube
import FairSupport
import Foundation

/// Watches node heartbeats. A Node whose agent has not renewed its Ready condition's
/// `lastHeartbeatTime` for `nodeMonitorGracePeriod` gets Ready=Unknown (`NodeStatusUnknown`)
/// and the `node.kubernetes.io/unreachable:NoSchedule` taint, and its unfinished pods are
/// marked Failed (`NodeLost`) so their controllers replace them, then deleted at once (no agent
/// is there to finish a graceful deletion). A NotReady node (Ready=False, reported by its
/// agent) gets `node.kubernetes.io/not-ready:NoSchedule`. The taints go once it is Ready again.
final class NodeLifecycleController: QueuedController {
    override var name: String { "node-lifecycle-controller" }

    static let unreachableTaint = "node.kubernetes.io/unreachable"
    static let notReadyTaint = "node.kubernetes.io/not-ready"

    private let client: KubeClient
    private let informers: SharedInformers
    private let options: ControllerOptions
    private let events: EventRecorder
    private let clock: WallClock
    private let heartbeats = HeartbeatClock()

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        options = context.options
        events = context.events("node-controller")
        clock = context.clock
        super.init()
        informers.nodes.addHandler { [weak self] event in
            if case let .deleted(node) = event { self?.heartbeats.forget(node.name ?? "") }
            self?.enqueue(Informer.key(event.object))
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard var node = informers.nodes.get(key), let name = node.name else {
            heartbeats.forget(key)
            return .done
        }
        let now = clock.now
        let ready = Node(json: node).status.conditions["Ready"]
        let silentFor = heartbeats.silence(of: node, now: now)
        let lost = silentFor >= options.nodeMonitorGracePeriod
        if lost, ready == nil || ready?.status != "Unknown" {
            node = try markUnknown(node, neverPosted: ready == nil, now: now)
            events.record(node, .normal, reason: "NodeNotReady", message: "Node \(name) status is now: NodeNotReady")
        }
        let readyStatus = Node(json: node).status.conditions["Ready"]?.status ?? "Unknown"
        try reconcileTaints(node, readyStatus: readyStatus)
        if lost, readyStatus == "Unknown" {
            try evictPods(from: name)
        }
        let untilSilent = options.nodeMonitorGracePeriod - silentFor
        return .requeue(after: untilSilent > 0 ? min(options.nodeMonitorPeriod, untilSilent + 0.01) : options.nodeMonitorPeriod)
    }

    /// Every condition the agent reported becomes Unknown: nobody knows any more.
    private func markUnknown(_ node: JSONValue, neverPosted: Bool, now: Date) throws -> JSONValue {
        let message = neverPosted ? "Kubelet never posted node status." : "Kubelet stopped posting node status."
        var updated = Node(json: node)
        var conditions = updated.status.conditions
        if conditions["Ready"] == nil {
            var ready = Condition()
            ready.type = "Ready"
            ready.lastHeartbeatTime = updated.metadata.creationTimestamp ?? now
            conditions.append(ready)
        }
        for index in conditions.indices {
            if conditions[index].status != "Unknown" { conditions[index].lastTransitionTime = now }
            conditions[index].status = "Unknown"
            conditions[index].reason = neverPosted ? "NodeStatusNeverUpdated" : "NodeStatusUnknown"
            conditions[index].message = message
        }
        updated.status.conditions = conditions
        // Against the version read: a heartbeat that lands meanwhile wins, and we look again.
        return try client.update(.nodes, updated.json, subresource: "status")
    }

    private func reconcileTaints(_ node: JSONValue, readyStatus: String) throws {
        let wanted: String? = readyStatus == "Unknown" ? Self.unreachableTaint : readyStatus == "False" ? Self.notReadyTaint : nil
        var updated = Node(json: node)
        let taints = updated.spec.taints
        var kept = taints.filter { taint in
            guard taint.key == Self.unreachableTaint || taint.key == Self.notReadyTaint else { return true }
            return taint.key == wanted && taint.effect == "NoSchedule"
        }
        if let wanted, !kept.contains(where: { $0.key == wanted }) {
            var taint = Taint()
            taint.key = wanted
            taint.effect = "NoSchedule"
            taint.timeAdded = clock.now
            kept.append(taint)
        }
        guard kept.map(\.json) != taints.map(\.json) else { return }
        updated.spec.taints = kept
        _ = try client.update(.nodes, updated.json)
    }

    /// The pods of a lost node: their processes are out of reach, so they are failed (their
    /// controllers count and replace them) and removed without waiting for an agent.
    private func evictPods(from node: String) throws {
        let pods = informers.pods.list { Pod(json: $0).spec.nodeName == node && !$0.isFinishedPod }
        var firstError: Error?
        for pod in pods {
            guard let name = pod.name else { continue }
            do {
                var conditions = Pod(json: pod).status.conditions
                var ready = Condition()
                ready.type = "Ready"
                ready.status = "False"
                ready.reason = "NodeLost"
                ready.lastTransitionTime = clock.now
                if let index = conditions.firstIndex(where: { $0.type == "Ready" }) {
                    conditions[index] = ready
                } else {
                    conditions.append(ready)
                }
                _ = try client.mergePatch(.pods, namespace: pod.namespace, name: name, [
                    "status": ["phase": "Failed", "reason": "NodeLost",
                               "message": .string("Node \(node) which was running pod \(name) is unresponsive"),
                               "conditions": .array(conditions.map(\.json))],
                ], subresource: "status")
                try client.delete(.pods, namespace: pod.namespace, name: name, gracePeriodSeconds: 0, preconditionUID: pod.uid)
            } catch let error as KubeError where error.isNotFound {
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }
}
