import FairKube
import Foundation

/// Node objects with nothing behind them, Ready and heartbeating, for the scheduler to place
/// pods on. Stand-ins until node agents with a fake runtime can register real ones: replacing
/// them means replacing `register` (and `remove`), nothing else.
final class StandInNodes: @unchecked Sendable {
    static let heartbeatInterval: TimeInterval = 10
    static let label = "fair.dev/bench"

    let names: [String]
    private let client: KubeClient
    private let condition = NSCondition()
    private var stopped = false
    private var heartbeatRunning = false

    private init(client: KubeClient, names: [String]) {
        self.client = client
        self.names = names
    }

    /// Registers `count` nodes with room for `podsPerNode` pods each (32 cpu, 256Gi) and keeps
    /// their Ready condition fresh until `stop`.
    static func register(client: KubeClient, count: Int, podsPerNode: Int) throws -> StandInNodes {
        let names = (0..<count).map { String(format: "fair-bench-node-%03d", $0) }
        let resources: JSONValue = ["cpu": "32", "memory": "256Gi", "pods": .string(String(podsPerNode)), "ephemeral-storage": "500Gi"]
        for name in names {
            var node: JSONValue = ["apiVersion": "v1", "kind": "Node",
                                   "metadata": ["name": .string(name),
                                                "labels": [StandInNodes.label: "true", "kubernetes.io/hostname": .string(name)]]]
            do {
                node = try client.create(.nodes, node)
            } catch let error as KubeError where error.code == 409 {
                node = try client.get(.nodes, name: name)  // left by an interrupted run: take it over
            }
            node["status"] = ["capacity": resources, "allocatable": resources, "conditions": [readyCondition()],
                              "nodeInfo": ["kubeletVersion": "fair-bench-stand-in"]]
            _ = try client.update(.nodes, node, subresource: "status")
        }
        let nodes = StandInNodes(client: client, names: names)
        nodes.startHeartbeats()
        return nodes
    }

    private static func readyCondition() -> JSONValue {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let now = JSONValue.string(formatter.string(from: Date()))
        return ["type": "Ready", "status": "True", "reason": "KubeletReady", "message": "stand-in node of fair-bench",
                "lastHeartbeatTime": now, "lastTransitionTime": now]
    }

    private func startHeartbeats() {
        condition.lock()
        heartbeatRunning = true
        condition.unlock()
        let thread = Thread { [self] in
            while waitForNextBeat() {
                for name in names {
                    _ = try? client.mergePatch(.nodes, name: name, ["status": ["conditions": [Self.readyCondition()]]], subresource: "status")
                }
            }
            condition.lock()
            heartbeatRunning = false
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "stand-in node heartbeats"
        thread.start()
    }

    /// False once stopped.
    private func waitForNextBeat() -> Bool {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Self.heartbeatInterval)
        while !stopped && condition.wait(until: deadline) {}
        return !stopped
    }

    func stop() {
        condition.lock(); defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while heartbeatRunning { condition.wait() }
    }

    /// Stops the heartbeats and deletes the nodes.
    func remove() {
        stop()
        for name in names { try? client.delete(.nodes, name: name) }
    }
}
