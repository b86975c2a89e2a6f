import FairKube
@testable import FairScheduler
import FairSupport
import Foundation
import XCTest

/// The scheduler against a real in-process API server: Node objects made by the test, pods
/// created through the API, bindings read back from the API.
final class SchedulerTests: XCTestCase {
    private var cluster: TestCluster!
    private var scheduler: Scheduler?

    override func setUp() async throws {
        let server = try await TestServer.start()
        do {
            cluster = try TestCluster(server: server)
        } catch {
            await server.stop()
            throw error
        }
    }

    override func tearDown() async throws {
        guard let server = cluster?.server else { return }
        weak var schedulerClient = scheduler?.client
        if let scheduler {
            scheduler.stop()
            cluster.endWatches()
        }
        scheduler = nil
        cluster = nil
        // Its informers let go of the client once their watches end; then its connections close.
        let deadline = Date().addingTimeInterval(3)
        while schedulerClient != nil && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        await server.stop()
    }

    @discardableResult
    private func startScheduler(_ options: SchedulerOptions = .init()) throws -> Scheduler {
        var options = options
        // Back-offs on a clock nobody moves: a pod placed must have been placed by a cluster change.
        if ProcessInfo.processInfo.environment["FAIR_TEST_TRANSPORT"] != "https" { options.clock = ManualClock(now: Date()) }
        let scheduler = Scheduler(client: try cluster.newClient(), options: options)
        self.scheduler = scheduler
        scheduler.start()
        XCTAssertTrue(scheduler.waitUntilSynced(timeout: 10))
        return scheduler
    }

    func testSpreadsPodsByFreeResources() throws {
        for name in ["a", "b", "c"] { try cluster.createNode(name, cpu: "4", memory: "8Gi") }
        try startScheduler()
        for index in 0..<6 { try cluster.createPod("p\(index)", requests: ["cpu": "1", "memory": "1Gi"]) }
        var perNode: [String: Int] = [:]
        for index in 0..<6 { perNode[try cluster.waitForBinding("p\(index)"), default: 0] += 1 }
        XCTAssertEqual(perNode, ["a": 2, "b": 2, "c": 2])
    }

    func testPrefersTheNodeWithMoreRoomLeft() throws {
        try cluster.createNode("small", cpu: "2", memory: "4Gi")
        try cluster.createNode("big", cpu: "16", memory: "32Gi")
        try startScheduler()
        for index in 0..<3 { try cluster.createPod("p\(index)", requests: ["cpu": "500m", "memory": "512Mi"]) }
        for index in 0..<3 { XCTAssertEqual(try cluster.waitForBinding("p\(index)"), "big") }
    }

    func testRespectsNodeSelector() throws {
        try cluster.createNode("ssd-1", labels: ["disk": "ssd"])
        try cluster.createNode("hdd-1", labels: ["disk": "hdd"])
        try cluster.createNode("hdd-2", labels: ["disk": "hdd"])
        try startScheduler()
        for index in 0..<4 { try cluster.createPod("fast\(index)", requests: ["cpu": "100m"], nodeSelector: ["disk": "ssd"]) }
        for index in 0..<4 { XCTAssertEqual(try cluster.waitForBinding("fast\(index)"), "ssd-1") }
    }

    func testTaintsKeepPodsAwayUnlessTolerated() throws {
        try cluster.createNode("gpu-node", labels: ["pool": "gpu"], taints: [["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]])
        try cluster.createNode("plain", labels: ["pool": "cpu"])
        try startScheduler()
        for index in 0..<5 { try cluster.createPod("plain\(index)") }
        for index in 0..<5 { XCTAssertEqual(try cluster.waitForBinding("plain\(index)"), "plain") }

        try cluster.createPod("equal", nodeSelector: ["pool": "gpu"],
                              tolerations: [["key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"]])
        try cluster.createPod("exists", nodeSelector: ["pool": "gpu"], tolerations: [["key": "dedicated", "operator": "Exists"]])
        try cluster.createPod("wrong-value", nodeSelector: ["pool": "gpu"],
                              tolerations: [["key": "dedicated", "operator": "Equal", "value": "tpu", "effect": "NoSchedule"]])
        XCTAssertEqual(try cluster.waitForBinding("equal"), "gpu-node")
        XCTAssertEqual(try cluster.waitForBinding("exists"), "gpu-node")
        XCTAssertEqual(try cluster.waitForUnschedulableMessage("wrong-value"),
                       "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}.")
        XCTAssertNil(try cluster.nodeName(of: "wrong-value"))
    }

    func testUnschedulableMessageThenSchedulesWhenANodeAppears() throws {
        try cluster.createNode("a1", cpu: "1", labels: ["zone": "a"])
        try cluster.createNode("a2", cpu: "1", labels: ["zone": "a"])
        try cluster.createNode("b1", cpu: "8", labels: ["zone": "b"])
        try startScheduler()
        try cluster.createPod("big", requests: ["cpu": "2"], nodeSelector: ["zone": "a"])
        XCTAssertEqual(try cluster.waitForUnschedulableMessage("big"),
                       "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.")
        let event = try cluster.waitFor("a FailedScheduling event") { try cluster.events(for: "big", reason: "FailedScheduling").first }
        XCTAssertEqual(event["type"]?.stringValue, "Warning")
        XCTAssertEqual(event["message"]?.stringValue,
                       "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.")

        // After the second failed attempt the next retry is 2 s away: a new node must not wait for it.
        let scheduler = try XCTUnwrap(self.scheduler)
        // The first retry is 1 s away: on the manual clock, let that second pass now.
        _ = try cluster.waitFor("the first attempt") { scheduler.queue.attemptCount("default/big") >= 1 ? true : nil }
        (scheduler.options.clock as? ManualClock)?.advance(by: 1)
        _ = try cluster.waitFor("a second attempt") { scheduler.queue.attemptCount("default/big") >= 2 ? true : nil }
        let added = Date()
        try cluster.createNode("a3", cpu: "4", labels: ["zone": "a"])
        XCTAssertEqual(try cluster.waitForBinding("big", timeout: 10), "a3")
        XCTAssertLessThan(Date().timeIntervalSince(added), 1, "a new node should wake waiting pods at once, not after their back-off")
        let scheduled = try cluster.pod("big").value(at: "status.conditions")?.arrayValue?.first { $0["type"]?.stringValue == "PodScheduled" }
        XCTAssertEqual(scheduled?["status"]?.stringValue, "True")
    }

    func testNoNodesMessage() throws {
        try startScheduler()
        try cluster.createPod("lonely")
        XCTAssertEqual(try cluster.waitForUnschedulableMessage("lonely"), "0/0 nodes are available: no nodes available to schedule pods.")
        try cluster.createNode("n1")
        XCTAssertEqual(try cluster.waitForBinding("lonely"), "n1")
    }

    func testNotReadyAndCordonedNodesAreSkipped() throws {
        try cluster.createNode("down", ready: false)
        try cluster.createNode("cordoned", unschedulable: true)
        try cluster.createNode("full", pods: 0)
        try startScheduler()
        try cluster.createPod("p")
        XCTAssertEqual(try cluster.waitForUnschedulableMessage("p"),
                       "0/3 nodes are available: 1 Too many pods, 1 node(s) were not ready, 1 node(s) were unschedulable.")
        // Readiness coming back is a node change that wakes the pod.
        var node = try cluster.client.get(.nodes, name: "down")
        node.set([["type": "Ready", "status": "True"]], at: "status.conditions")
        _ = try cluster.client.update(.nodes, node, subresource: "status")
        XCTAssertEqual(try cluster.waitForBinding("p"), "down")
    }

    func testGPUsAreCountedAndFreedWhenAPodGoes() throws {
        try cluster.createNode("gpu", gpus: 2)
        try cluster.createNode("cpu-only")
        try startScheduler()
        // Limits only: the request defaults to the limit, as the API does for extended resources.
        for index in 0..<3 { try cluster.createPod("train\(index)", limits: ["nvidia.com/gpu": "1"]) }
        let bound = try cluster.waitFor("two GPU pods bound") { () -> [String]? in
            let names = try (0..<3).filter { try cluster.nodeName(of: "train\($0)") != nil }.map { "train\($0)" }
            return names.count == 2 ? names : nil
        }
        for name in bound { XCTAssertEqual(try cluster.nodeName(of: name), "gpu") }
        let waiting = ["train0", "train1", "train2"].first { !bound.contains($0) }!
        XCTAssertEqual(try cluster.waitForUnschedulableMessage(waiting), "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.")

        try cluster.client.delete(.pods, namespace: "default", name: bound[0], gracePeriodSeconds: 0)
        XCTAssertEqual(try cluster.waitForBinding(waiting, timeout: 5), "gpu")
    }

    func testManyPodsAtOnceNeverOvercommitANode() throws {
        try cluster.createNode("n1", cpu: "2", memory: "4Gi")
        try cluster.createNode("n2", cpu: "2", memory: "4Gi")
        try startScheduler()
        // 24 pods of 500m from 4 threads at once: 8 fit (4 per node); the assumed-pod accounting
        // must hold the line while bindings are still in flight.
        let creators = try (0..<4).map { _ in try cluster.newClient() }
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for index in stride(from: thread, to: 24, by: 4) {
                _ = try? creators[thread].create(.pods, namespace: "default", [
                    "metadata": ["name": .string("p\(index)")],
                    "spec": ["containers": [["name": "c", "image": "busybox:1.36", "resources": ["requests": ["cpu": "500m"]]]]],
                ])
            }
        }
        func placement() throws -> [String: Int] {
            var perNode: [String: Int] = [:]
            for pod in try cluster.client.list(.pods, namespace: "default")["items"]?.arrayValue ?? [] {
                if let node = pod.value(at: "spec.nodeName")?.stringValue { perNode[node, default: 0] += 1 }
            }
            return perNode
        }
        _ = try cluster.waitFor("8 pods bound") { try placement().values.reduce(0, +) == 8 ? true : nil }
        // Every other pod is refused, with the reason, and stays refused.
        for index in 0..<24 {
            guard try cluster.nodeName(of: "p\(index)") == nil else { continue }
            XCTAssertEqual(try cluster.waitForUnschedulableMessage("p\(index)"), "0/2 nodes are available: 2 Insufficient cpu.")
        }
        XCTAssertEqual(try placement(), ["n1": 4, "n2": 4])
        XCTAssertEqual(scheduler?.statistics.scheduled, 8)
        XCTAssertEqual(scheduler?.cache.usage(of: "n1").requested.milliCPU, 2000)
    }

    func testLeavesPodsOfOtherSchedulersAlone() throws {
        try cluster.createNode("n1")
        try startScheduler()
        try cluster.createPod("theirs", schedulerName: "other-scheduler")
        try cluster.createPod("ours")
        XCTAssertEqual(try cluster.waitForBinding("ours"), "n1")
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertNil(try cluster.nodeName(of: "theirs"))
        XCTAssertNil(try cluster.pod("theirs").value(at: "status.conditions"))
    }

    func testWritesAScheduledEvent() throws {
        try cluster.createNode("n1")
        try startScheduler()
        try cluster.createPod("p")
        XCTAssertEqual(try cluster.waitForBinding("p"), "n1")
        let event = try cluster.waitFor("a Scheduled event") { try cluster.events(for: "p", reason: "Scheduled").first }
        XCTAssertEqual(event["message"]?.stringValue, "Successfully assigned default/p to n1")
        XCTAssertEqual(event.value(at: "source.component")?.stringValue, "default-scheduler")
    }

    // MARK: - Pod groups

    private static func group(_ name: String, of size: Int) -> [String: String] {
        ["pod-group.scheduling.sigs.k8s.io/name": name, "pod-group.scheduling.sigs.k8s.io/min-available": String(size)]
    }

    func testAPodGroupWaitsForAllItsPodsThenStartsTogether() throws {
        try cluster.createNode("node-a", cpu: "4")
        try startScheduler()
        try cluster.createPod("worker-0", requests: ["cpu": "1"], labels: Self.group("train", of: 3))
        try cluster.createPod("worker-1", requests: ["cpu": "1"], labels: Self.group("train", of: 3))
        // Each pod waits; once both are seen, both say so.
        for name in ["worker-0", "worker-1"] {
            try cluster.waitFor("\(name) waiting for its group") {
                try cluster.waitForUnschedulableMessage(name).contains("pod group \"train\" has 2 of the 3 pods") ? true : nil
            }
        }
        XCTAssertNil(try cluster.nodeName(of: "worker-1"))

        try cluster.createPod("worker-2", requests: ["cpu": "1"], labels: Self.group("train", of: 3))
        for name in ["worker-0", "worker-1", "worker-2"] { XCTAssertEqual(try cluster.waitForBinding(name), "node-a") }

        // A replaced member joins its running peers without waiting for a whole group again.
        try cluster.client.delete(.pods, namespace: "default", name: "worker-1")
        try cluster.createPod("worker-1b", requests: ["cpu": "1"], labels: Self.group("train", of: 3))
        XCTAssertEqual(try cluster.waitForBinding("worker-1b"), "node-a")
    }

    func testAPodGroupThatDoesNotFitBindsNoneOfItsPods() throws {
        try cluster.createNode("node-a", cpu: "2")
        try startScheduler()
        for index in 0..<3 {
            try cluster.createPod("worker-\(index)", requests: ["cpu": "1"], labels: Self.group("big", of: 3))
        }
        for index in 0..<3 {
            let message = try cluster.waitFor("worker-\(index) to say why its group does not fit") { () -> String? in
                let message = try cluster.waitForUnschedulableMessage("worker-\(index)")
                return message.contains("must start together and only") ? message : nil
            }
            XCTAssertEqual(message, "pod group \"big\": 3 pods must start together and only 2 fit: 0/1 nodes are available: 1 Insufficient cpu.")
        }
        try cluster.createPod("other", requests: ["cpu": "2"])
        XCTAssertEqual(try cluster.waitForBinding("other"), "node-a", "the group's undone assumptions hold no room")
        for index in 0..<3 { XCTAssertNil(try cluster.nodeName(of: "worker-\(index)")) }
    }
}
