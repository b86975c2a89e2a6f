@testable import FairNode
import FairKube
import Foundation
import XCTest

final class AgentDeletionTests: AgentTestCase {
    func testGracefulDeletionStopsContainersThenDeletesThePod() throws {
        let runtime = ScriptedRuntime()
        runtime.script("app", .init(ignoresSIGTERM: true))
        let agent = try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("stubborn", node: "node-1", containers: [["name": "app", "image": "img:1"]],
                              extraSpec: ["volumes": [["name": "scratch", "emptyDir": [:]]]])
        try cluster.createPod("polite", node: "node-1", containers: [["name": "app2", "image": "img:1"]])
        let stubborn = try XCTUnwrap(waitForPhase("stubborn", "Running"))
        waitForPhase("polite", "Running")
        let uid = try XCTUnwrap(stubborn.uid)
        let id = "\(uid)-app-0"
        let podDirectory = "\(agent.options.dataDirectory)/pods/\(uid)"
        XCTAssertTrue(FileManager.default.fileExists(atPath: podDirectory + "/volumes/scratch"))

        let marked = Date()
        try cluster.markDeleted("stubborn", gracePeriodSeconds: 1)
        eventually("SIGTERM", { runtime.signalsSent(to: id) }, until: { $0 == [SIGTERM] })
        XCTAssertNotNil(cluster.pod("stubborn"), "the pod stays while its containers stop")
        eventually("SIGKILL after the grace period", { runtime.signalsSent(to: id) }, until: { $0 == [SIGTERM, SIGKILL] })
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(marked), 0.9)
        eventually("the pod deleted by the agent", { cluster.pod("stubborn") }, until: { $0 == nil })
        XCTAssertFalse(runtime.ids.contains(id), "the container is removed")
        // Removed right after the pod object (kubelet's housekeeping does it later still).
        eventually("volumes, logs and state removed", timeout: 5, { FileManager.default.fileExists(atPath: podDirectory) }, until: { !$0 })
        XCTAssertNotNil(cluster.pod("polite"), "other pods are untouched")
    }

    func testPodDeletedOutrightIsCleanedUp() throws {
        let runtime = ScriptedRuntime()
        let agent = try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("gone", node: "node-1", containers: [["name": "app", "image": "img:1"]])
        let pod = try XCTUnwrap(waitForPhase("gone", "Running"))
        let uid = try XCTUnwrap(pod.uid)
        try client.delete(.pods, namespace: "default", name: "gone")
        let id = "\(uid)-app-0"
        eventually("container removed", { runtime.ids }, until: { !$0.contains(id) })
        XCTAssertEqual(runtime.signalsSent(to: id).first, SIGTERM)
        eventually("pod directory removed", { FileManager.default.fileExists(atPath: "\(agent.options.dataDirectory)/pods/\(uid)") },
                   until: { !$0 })
    }

    func testFreedAddressIsNotHandedOutFirst() throws {
        try startAgent(quickOptions("node-1", podCIDR: "127.22.0.0/29"), runtime: FakeRuntime())
        try cluster.createPod("a", node: "node-1", containers: [["name": "c", "image": "img:1"]])
        let first = waitForPhase("a", "Running")?.value(at: "status.podIP")?.stringValue
        try client.delete(.pods, namespace: "default", name: "a")
        try cluster.createPod("b", node: "node-1", containers: [["name": "c", "image": "img:1"]])
        let second = waitForPhase("b", "Running")?.value(at: "status.podIP")?.stringValue
        XCTAssertNotNil(first)
        XCTAssertNotEqual(first, second)
    }
}
