import FairKube
import Foundation
import XCTest

final class NodeLifecycleControllerTests: ControllerTestCase {
    private func heartbeat(_ node: String, create: Bool = false) throws {
        let conditions: JSONValue = [["type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready",
                                      "lastHeartbeatTime": .string(Self.timestamp()), "lastTransitionTime": .string(Self.timestamp())]]
        if create {
            _ = try client.create(.nodes, ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(node)],
                                           "status": ["conditions": conditions]])
        } else {
            _ = try client.mergePatch(.nodes, name: node, ["status": ["conditions": conditions]], subresource: "status")
        }
    }

    private func boundPod(_ name: String, node: String, labels: JSONValue = [:]) throws -> JSONValue {
        let pod = try client.create(.pods, ["metadata": ["name": .string(name), "labels": labels],
                                            "spec": ["nodeName": .string(node), "containers": [Self.container()]]])
        try markRunning(pod)
        return pod
    }

    private func exists(_ pod: String) throws -> Bool {
        do {
            _ = try client.get(.pods, name: pod)
            return true
        } catch let error as KubeError where error.isNotFound {
            return false
        }
    }

    private func taintKeys(_ node: String) throws -> [String] {
        (try client.get(.nodes, name: node).value(at: "spec.taints")?.arrayValue ?? []).compactMap { $0["key"]?.stringValue }
    }

    func testASilentNodeIsMarkedUnknownTaintedAndItsPodsFailedAndDeleted() throws {
        try heartbeat("silent", create: true)
        try heartbeat("alive", create: true)
        _ = try boundPod("lost", node: "silent")
        let finished = try boundPod("finished", node: "silent")
        try markFinished(finished, succeeded: true)
        _ = try boundPod("safe", node: "alive")

        // The agent of "alive" keeps posting; the one of "silent" has stopped.
        let client = self.client!
        every(0.2) {
            _ = try? client.mergePatch(.nodes, name: "alive", ["status": ["conditions": [[
                "type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready",
                "lastHeartbeatTime": .string(Self.timestamp())]]]], subresource: "status")
        }

        let started = now
        startControllers { options in
            options.nodeMonitorGracePeriod = 1.5
            options.nodeMonitorPeriod = 0.2
        }
        // Pods of a controller are failed (so it notices) and removed, then replaced elsewhere.
        let node = try eventually("the node marked unknown", timeout: 8) { () -> JSONValue? in
            let node = try client.get(.nodes, name: "silent")
            guard condition(node, "Ready")?["status"]?.stringValue == "Unknown" else { return nil }
            return node
        }
        XCTAssertGreaterThan(now.timeIntervalSince(started), 1.0, "not before the grace period")
        XCTAssertEqual(condition(node, "Ready")?["reason"], "NodeStatusUnknown")
        XCTAssertEqual(condition(node, "Ready")?["message"], "Kubelet stopped posting node status.")
        try waitUntil("the unreachable taint") { try taintKeys("silent") == ["node.kubernetes.io/unreachable"] }
        XCTAssertEqual(try client.get(.nodes, name: "silent").value(at: "spec.taints")?.arrayValue?.first?["effect"], "NoSchedule")
        try waitUntil("the running pod removed") { try !exists("lost") }
        XCTAssertTrue(try exists("finished"), "finished pods are left for their owners to count")
        XCTAssertTrue(try exists("safe"))
        XCTAssertEqual(condition(try client.get(.nodes, name: "alive"), "Ready")?["status"], "True")
        XCTAssertEqual(try taintKeys("alive"), [])

        // The agent comes back.
        try heartbeat("silent")
        try waitUntil("the taint removed") { try taintKeys("silent").isEmpty }
        try stays("the node stays ready", for: 0.5) { try condition(client.get(.nodes, name: "silent"), "Ready")?["status"] == "True" }
    }

    func testAReplicaSetReplacesThePodOfALostNode() throws {
        try heartbeat("gone", create: true)
        startControllers { options in
            options.nodeMonitorGracePeriod = 1
            options.nodeMonitorPeriod = 0.2
        }
        _ = try client.create(.replicaSets, [
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "svc"],
            "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "svc"]],
                     "template": ["metadata": ["labels": ["app": "svc"]], "spec": ["containers": [Self.container()]]]],
        ])
        let pod = try eventually("the pod") { try activePods("app=svc").first }
        _ = try client.post(.pods, name: pod.name ?? "", subresource: "binding",
                            ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(pod.name ?? "")],
                             "target": ["kind": "Node", "name": "gone"]])
        try markRunning(pod)
        let replacement = try eventually("a replacement", timeout: 8) { try activePods("app=svc").first { $0.uid != pod.uid } }
        XCTAssertNil(replacement.value(at: "spec.nodeName"))
        try waitUntil("the lost pod removed") { try !exists(pod.name ?? "") }
        XCTAssertEqual(try activePods("app=svc").count, 1)
    }
}
