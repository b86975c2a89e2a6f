import FairKube
@testable import FairScheduler
import Foundation
import XCTest

/// The filter, score and queue rules on their own, with no server.
final class SchedulingRulesTests: XCTestCase {
    private func pod(_ spec: JSONValue) -> JSONValue {
        ["metadata": ["name": "p", "namespace": "default", "uid": "u1"], "spec": spec]
    }

    private func node(cpu: String = "4", memory: String = "8Gi", pods: Int = 110, extra: JSONValue = [:]) -> SchedulableNode {
        var allocatable: JSONValue = ["cpu": .string(cpu), "memory": .string(memory), "pods": .int(Int64(pods))]
        for (key, value) in extra.objectValue ?? [:] { allocatable[key] = value }
        return SchedulableNode(["metadata": ["name": "n"],
                                "status": ["allocatable": allocatable, "conditions": [["type": "Ready", "status": "True"]]]])
    }

    func testRequestsDefaultToLimitsAndCoverTheLargestInitContainer() {
        let demand = PodDemand(pod: pod([
            "containers": [
                ["name": "a", "resources": ["requests": ["cpu": "250m"], "limits": ["cpu": "1", "memory": "1Gi"]]],
                ["name": "b", "resources": ["limits": ["nvidia.com/gpu": "1"]]],
            ],
            "initContainers": [["name": "init", "resources": ["requests": ["cpu": "2", "memory": "128Mi"]]]],
            "overhead": ["cpu": "100m"],
        ]))
        XCTAssertEqual(demand.requests.milliCPU, 2100, "the init container's 2 cpu beat the containers' 250m; plus overhead")
        XCTAssertEqual(demand.requests.memory, 1 << 30, "memory defaults to the limit")
        XCTAssertEqual(demand.requests.extended, ["nvidia.com/gpu": 1])
        XCTAssertEqual(demand.requests.pods, 1)
        // Container b asks for no cpu/memory, so it counts as 100m/200Mi when scoring.
        XCTAssertEqual(demand.scoringMilliCPU, 2100)
        XCTAssertEqual(demand.scoringMemory, (1 << 30) + (200 << 20))
    }

    func testTolerationMatching() {
        let taint = Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")
        XCTAssertTrue(Toleration(["key": "dedicated", "value": "gpu"]).tolerates(taint), "Equal is the default operator, any effect")
        XCTAssertFalse(Toleration(["key": "dedicated", "value": "cpu"]).tolerates(taint))
        XCTAssertTrue(Toleration(["key": "dedicated", "operator": "Exists", "effect": "NoSchedule"]).tolerates(taint))
        XCTAssertFalse(Toleration(["key": "dedicated", "operator": "Exists", "effect": "NoExecute"]).tolerates(taint))
        XCTAssertTrue(Toleration(["operator": "Exists"]).tolerates(taint), "an empty key with Exists tolerates everything")
        XCTAssertFalse(Toleration(["key": "other", "operator": "Exists"]).tolerates(taint))
    }

    func testFilterReasonsUseKubesWording() {
        let big = SchedulingPod(pod(["containers": [["name": "a", "resources": ["requests": ["cpu": "8", "memory": "16Gi", "example.com/fpga": "1"]]]]]))
        XCTAssertEqual(NodeFilters.reasons(big, node(), .zero), ["Insufficient cpu", "Insufficient memory", "Insufficient example.com/fpga"])
        XCTAssertEqual(NodeFilters.reasons(big, node(cpu: "8", memory: "16Gi", extra: ["example.com/fpga": 1]), .zero), [])
        let empty = SchedulingPod(pod(["containers": [["name": "a"]]]))
        var usage = NodeUsage()
        usage.requested.pods = 2
        usage.requested.milliCPU = 4000
        XCTAssertEqual(NodeFilters.reasons(empty, node(pods: 3), usage), [], "a pod that asks for nothing fits a busy node")
        XCTAssertEqual(NodeFilters.reasons(empty, node(pods: 2), usage), ["Too many pods"])
    }

    func testRequiredNodeAffinity() {
        let spec: JSONValue = ["containers": [["name": "a"]], "affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            "nodeSelectorTerms": [
                ["matchExpressions": [["key": "zone", "operator": "In", "values": ["a", "b"]], ["key": "cores", "operator": "Gt", "values": ["8"]]]],
                ["matchFields": [["key": "metadata.name", "operator": "In", "values": ["special"]]]],
            ],
        ]]]]
        let affinity = SchedulingPod(pod(spec)).affinity
        XCTAssertTrue(affinity.matches(nodeName: "x", labels: ["zone": "a", "cores": "16"]))
        XCTAssertFalse(affinity.matches(nodeName: "x", labels: ["zone": "a", "cores": "4"]))
        XCTAssertFalse(affinity.matches(nodeName: "x", labels: ["zone": "c", "cores": "16"]))
        XCTAssertTrue(affinity.matches(nodeName: "special", labels: [:]))
    }

    func testScoresPreferEmptierAndBalancedNodes() {
        let pod = SchedulingPod(self.pod(["containers": [["name": "a", "resources": ["requests": ["cpu": "1", "memory": "2Gi"]]]]]))
        let node = self.node(cpu: "4", memory: "8Gi")
        var busy = NodeUsage()
        busy.add(pod.demand)
        busy.add(pod.demand)
        XCTAssertGreaterThan(NodeScores.total(pod, node, .zero), NodeScores.total(pod, node, busy))
        // Same free share on average, but one leaves cpu and memory lopsided.
        var cpuHeavy = NodeUsage()
        cpuHeavy.requested.milliCPU = 2000
        cpuHeavy.scoringMilliCPU = 2000
        var even = NodeUsage()
        even.requested.milliCPU = 1000
        even.requested.memory = 2 << 30
        even.scoringMilliCPU = 1000
        even.scoringMemory = 2 << 30
        XCTAssertEqual(NodeScores.leastAllocated(pod, node, cpuHeavy), NodeScores.leastAllocated(pod, node, even))
        XCTAssertGreaterThan(NodeScores.balancedAllocation(pod, node, even), NodeScores.balancedAllocation(pod, node, cpuHeavy))
    }

    func testFailureMessage() {
        XCTAssertEqual(FitFailure(nodeCount: 0, reasonCounts: [:]).message, "0/0 nodes are available: no nodes available to schedule pods.")
        XCTAssertEqual(FitFailure(nodeCount: 5, reasonCounts: ["Insufficient memory": 2, "Insufficient cpu": 2, "node(s) were unschedulable": 1, "Too many pods": 3]).message,
                       "0/5 nodes are available: 3 Too many pods, 2 Insufficient cpu, 2 Insufficient memory, 1 node(s) were unschedulable.")
    }

    func testCacheCountsAssumedPodsUntilConfirmedOrForgotten() {
        let cache = SchedulerCache()
        cache.setNode(node(cpu: "1"))
        let json = pod(["containers": [["name": "a", "resources": ["requests": ["cpu": "600m"]]]]])
        let candidate = SchedulingPod(json)
        XCTAssertEqual(try cache.schedule(candidate).get(), "n")
        XCTAssertTrue(cache.isPlaced(key: "default/p", uid: "u1"))
        // The watch still shows the pod unbound: it keeps its place.
        cache.updatePod(json)
        XCTAssertEqual(cache.usage(of: "n").requested.milliCPU, 600)
        var other = json
        other.set("q", at: "metadata.name")
        other.set("u2", at: "metadata.uid")
        guard case let .failure(failure) = cache.schedule(SchedulingPod(other)) else { return XCTFail("overcommitted") }
        XCTAssertEqual(failure.message, "0/1 nodes are available: 1 Insufficient cpu.")
        cache.forget(key: "default/p", uid: "u1")
        XCTAssertEqual(cache.usage(of: "n").requested.milliCPU, 0)
        XCTAssertEqual(try cache.schedule(SchedulingPod(other)).get(), "n")
        // Confirmed by the watch, then finished: the room comes back.
        other.set("n", at: "spec.nodeName")
        XCTAssertFalse(cache.updatePod(other))
        XCTAssertEqual(cache.assumedCount, 0)
        other.set("Succeeded", at: "status.phase")
        XCTAssertTrue(cache.updatePod(other))
        XCTAssertEqual(cache.usage(of: "n").requested.milliCPU, 0)
    }

    func testNodeHeartbeatsAreNotChanges() {
        let cache = SchedulerCache()
        var json: JSONValue = ["metadata": ["name": "n"], "status": ["allocatable": ["cpu": "1"],
                               "conditions": [["type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:00Z"]]]]
        XCTAssertTrue(cache.setNode(SchedulableNode(json)))
        json.set([["type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:10Z"]], at: "status.conditions")
        XCTAssertFalse(cache.setNode(SchedulableNode(json)))
        json.set(["cpu": "2"], at: "status.allocatable")
        XCTAssertTrue(cache.setNode(SchedulableNode(json)))
    }

    func testQueueBacksOffAndWakesOnClusterChanges() {
        let queue = SchedulingQueue(initialBackoff: 0.2, maxBackoff: 0.4)
        queue.add("a")
        let first = queue.pop()
        XCTAssertEqual(first?.key, "a")
        let started = Date()
        queue.backOff("a", cycle: first!.cycle)
        XCTAssertEqual(queue.pop()?.key, "a")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.19)

        // A cluster change during the attempt: no back-off at all.
        queue.add("b")
        let second = queue.pop()!
        queue.moveAllToActive()
        queue.backOff("b", cycle: second.cycle)
        XCTAssertEqual(queue.pendingCount, 1)
        XCTAssertEqual(queue.pop()?.key, "b")

        // Waiting pods move at once on a change.
        queue.backOff("c", cycle: UInt64.max)
        let moved = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { queue.moveAllToActive() }
        XCTAssertEqual(queue.pop()?.key, "c")
        XCTAssertLessThan(Date().timeIntervalSince(moved), 0.15)
        queue.close()
        XCTAssertNil(queue.pop())
    }
}
