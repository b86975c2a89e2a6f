import FairKube
import Foundation
import XCTest

final class DaemonSetControllerTests: ControllerTestCase {
    /// Nodes here have no agent: they report Ready once and must not be found silent since.
    private func start() {
        startControllers { $0.nodeMonitorGracePeriod = 1_000_000 }
    }

    private func createNode(_ name: String, labels: [String: String] = [:], taints: [JSONValue] = []) throws {
        var node: JSONValue = ["apiVersion": "v1", "kind": "Node",
                               "metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))]]
        if !taints.isEmpty { node.set(.array(taints), at: "spec.taints") }
        _ = try client.create(.nodes, node)
        // A node that never reported is unreachable, and daemon pods go only to reachable ones.
        _ = try client.mergePatch(.nodes, name: name, ["status": ["conditions": [[
            "type": "Ready", "status": "True", "lastHeartbeatTime": .string(Self.timestamp()),
            "lastTransitionTime": .string(Self.timestamp()),
        ]]]], subresource: "status")
    }

    @discardableResult
    private func createDaemonSet(nodeSelector: [String: String] = [:], image: String = "registry.local/agent:1") throws -> JSONValue {
        var podSpec: JSONValue = ["containers": [Self.container(image: image)]]
        if !nodeSelector.isEmpty { podSpec["nodeSelector"] = .object(nodeSelector.mapValues(JSONValue.string)) }
        return try client.create(.daemonSets, [
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": ["name": "agent"],
            "spec": ["selector": ["matchLabels": ["app": "agent"]],
                     "template": ["metadata": ["labels": ["app": "agent"]], "spec": podSpec]],
        ])
    }

    private func daemonSet() throws -> JSONValue { try client.get(.daemonSets, name: "agent") }

    /// The node each live pod of the set is for, by the node affinity it was given.
    private func targetNode(_ pod: JSONValue) -> String? {
        let terms = pod.value(at: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")?.arrayValue
        return terms?.first?["matchFields"]?.arrayValue?.first?["values"]?.arrayValue?.first?.stringValue
    }

    private func podNodes() throws -> [String] { try activePods("app=agent").compactMap(targetNode).sorted() }

    func testOnePodOnEachMatchingNodeFollowingNodeLabelsAndTaints() throws {
        start()
        try createNode("a", labels: ["disk": "ssd"])
        try createNode("b", labels: ["disk": "ssd"])
        try createNode("c")
        try createNode("d", labels: ["disk": "ssd"], taints: [["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]])
        let created = try createDaemonSet(nodeSelector: ["disk": "ssd"])
        try waitUntil("pods on a and b") { try podNodes() == ["a", "b"] }
        try stays("one pod each, none on c or the tainted d", for: 0.3) { try podNodes() == ["a", "b"] }

        let pod = try XCTUnwrap(try activePods("app=agent").first)
        XCTAssertEqual(pod.ownerReferences.first?["uid"]?.stringValue, created.uid)
        XCTAssertNil(pod.value(at: "spec.nodeName"), "the scheduler binds it, pinned by affinity")
        XCTAssertEqual(pod.value(at: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")?
            .arrayValue?.first?["matchFields"]?.arrayValue?.first?["key"], "metadata.name")
        let tolerations = (pod.value(at: "spec.tolerations")?.arrayValue ?? []).map {
            "\($0["key"]?.stringValue ?? ""):\($0["effect"]?.stringValue ?? ""):\($0["operator"]?.stringValue ?? "")"
        }
        XCTAssertEqual(Set(tolerations), [
            "node.kubernetes.io/not-ready:NoExecute:Exists", "node.kubernetes.io/unreachable:NoExecute:Exists",
            "node.kubernetes.io/disk-pressure:NoSchedule:Exists", "node.kubernetes.io/memory-pressure:NoSchedule:Exists",
            "node.kubernetes.io/pid-pressure:NoSchedule:Exists", "node.kubernetes.io/unschedulable:NoSchedule:Exists",
        ])
        XCTAssertNotNil(pod.value(at: ["metadata", "labels", "controller-revision-hash"]))

        try createNode("e", labels: ["disk": "ssd"])
        try waitUntil("a new node gets a pod") { try podNodes() == ["a", "b", "e"] }
        _ = try client.mergePatch(.nodes, name: "c", ["metadata": ["labels": ["disk": "ssd"]]])
        try waitUntil("a node that came to match gets one") { try podNodes() == ["a", "b", "c", "e"] }
        _ = try client.mergePatch(.nodes, name: "a", ["metadata": ["labels": ["disk": nil]]])
        try waitUntil("a node that stopped matching loses it") { try podNodes() == ["b", "c", "e"] }
        try client.delete(.nodes, name: "e")
        try waitUntil("a deleted node's pod goes") { try podNodes() == ["b", "c"] }

        for pod in try activePods("app=agent") { try markRunning(pod) }
        let status = try eventually("the status") { () -> JSONValue? in
            let object = try daemonSet()
            guard object.value(at: "status.numberReady")?.intValue == 2 else { return nil }
            return object
        }
        XCTAssertEqual(status.value(at: "status.desiredNumberScheduled"), 2)
        XCTAssertEqual(status.value(at: "status.currentNumberScheduled"), 2)
        XCTAssertEqual(status.value(at: "status.numberAvailable"), 2)
        XCTAssertEqual(status.value(at: "status.updatedNumberScheduled"), 2)
        XCTAssertEqual(status.value(at: "status.numberMisscheduled"), 0)
        XCTAssertNil(status.value(at: "status.numberUnavailable"))
        XCTAssertEqual(status.value(at: "status.observedGeneration"), status.value(at: "metadata.generation"))
    }

    func testChangingTheNodeSelectorMovesThePods() throws {
        start()
        try createNode("a", labels: ["pool": "x"])
        try createNode("b", labels: ["pool": "y"])
        try createDaemonSet(nodeSelector: ["pool": "x"])
        try waitUntil("a pod on a") { try podNodes() == ["a"] }
        _ = try client.mergePatch(.daemonSets, name: "agent", ["spec": ["template": ["spec": ["nodeSelector": ["pool": "y"]]]]])
        try waitUntil("the pod moved to b") { try podNodes() == ["b"] }
    }

    func testRollingUpdateReplacesOnePodAtATime() throws {
        start()
        for name in ["a", "b", "c"] { try createNode(name) }
        try createDaemonSet()
        try waitUntil("three pods") { try podNodes() == ["a", "b", "c"] }
        for pod in try activePods("app=agent") { try markRunning(pod) }
        try waitUntil("all available") { try daemonSet().value(at: "status.numberAvailable")?.intValue == 3 }
        let oldHash = try XCTUnwrap(try activePods("app=agent").first?.value(at: ["metadata", "labels", "controller-revision-hash"])?.stringValue)

        _ = try client.mergePatch(.daemonSets, name: "agent", ["spec": ["template": ["spec": ["containers": [Self.container(image: "registry.local/agent:2")]]]]])
        var updatedNodes: Set<String> = []
        for round in 1...3 {
            let fresh = try eventually("new pod \(round)") { () -> JSONValue? in
                let new = try activePods("app=agent").filter {
                    $0.value(at: ["metadata", "labels", "controller-revision-hash"])?.stringValue != oldHash
                        && !updatedNodes.contains(targetNode($0) ?? "")
                }
                return new.first
            }
            XCTAssertEqual(fresh.value(at: "spec.containers")?.arrayValue?.first?["image"], "registry.local/agent:2")
            updatedNodes.insert(targetNode(fresh) ?? "")
            try stays("only one node without an available pod", for: 0.2) {
                let pods = try activePods("app=agent")
                let old = pods.filter { $0.value(at: ["metadata", "labels", "controller-revision-hash"])?.stringValue == oldHash }
                return old.count == 3 - round && pods.count == 3
            }
            try markRunning(fresh)
        }
        try waitUntil("every node updated") {
            let object = try daemonSet()
            return object.value(at: "status.updatedNumberScheduled")?.intValue == 3 && object.value(at: "status.numberAvailable")?.intValue == 3
        }
        XCTAssertEqual(try podNodes(), ["a", "b", "c"])
    }

    func testDefaultsAndChecks() throws {
        try createDaemonSet()
        let stored = try daemonSet()
        XCTAssertEqual(stored.value(at: "spec.updateStrategy.type"), "RollingUpdate")
        XCTAssertEqual(stored.value(at: "spec.updateStrategy.rollingUpdate.maxUnavailable"), 1)
        XCTAssertEqual(stored.value(at: "spec.updateStrategy.rollingUpdate.maxSurge"), 0)
        XCTAssertEqual(stored.value(at: "spec.revisionHistoryLimit"), 10)
        XCTAssertThrowsError(try client.mergePatch(.daemonSets, name: "agent", ["spec": [
            "selector": ["matchLabels": ["app": "other"]], "template": ["metadata": ["labels": ["app": "other"]]],
        ]])) { error in
            XCTAssertTrue("\(error)".contains("field is immutable"), "\(error)")
        }
        XCTAssertThrowsError(try client.mergePatch(.daemonSets, name: "agent", ["spec": ["updateStrategy": ["rollingUpdate": ["maxUnavailable": 0]]]])) { error in
            XCTAssertTrue("\(error)".contains("may not be 0 when `maxSurge` is 0"), "\(error)")
        }
    }
}
