@testable import FairNode
import FairKube
import Foundation
import XCTest

final class AgentAdoptionTests: AgentTestCase {
    func testRestartAdoptsRunningContainersAndRemovesOrphans() throws {
        let runtime = ScriptedRuntime()
        let options = quickOptions("node-1")
        let first = try startAgent(options, runtime: runtime)
        try cluster.createPod("keeper", node: "node-1", containers: [["name": "app", "image": "img:1"]])
        try cluster.createPod("quitter", node: "node-1", containers: [["name": "app", "image": "img:1"]])
        try cluster.createPod("leaver", node: "node-1", containers: [["name": "app", "image": "img:1"]])
        let keeper = try XCTUnwrap(waitForPhase("keeper", "Running"))
        let quitter = try XCTUnwrap(waitForPhase("quitter", "Running"))
        let leaver = try XCTUnwrap(waitForPhase("leaver", "Running"))
        stopAgent(first)

        // While the agent is away: a container exits, a pod is deleted, and a stray container appears.
        runtime.exit("\(quitter.uid ?? "")-app-0", code: 7)
        try client.delete(.pods, namespace: "default", name: "leaver")
        runtime.addOrphan("0badc0de-0000-0000-0000-000000000000-app-0")
        let startsBefore = runtime.specs.count

        try startAgent(options, runtime: runtime)
        let restarted = eventually("quitter restarted", { cluster.pod("quitter")?.containerStatus("app") },
                                   until: { $0?["restartCount"] == 1 })
        XCTAssertEqual(restarted?.value(at: "lastState.terminated.exitCode"), 7, "the exit while away is recorded")
        eventually("orphan and the deleted pod's container removed", { Set(runtime.ids) },
                   until: { !$0.contains("0badc0de-0000-0000-0000-000000000000-app-0") && !$0.contains("\(leaver.uid ?? "")-app-0") })

        XCTAssertTrue(runtime.ids.contains("\(keeper.uid ?? "")-app-0"), "the running container is adopted, not replaced")
        XCTAssertEqual(runtime.specs.count, startsBefore + 1, "only the exited container started again")
        let kept = cluster.pod("keeper")
        XCTAssertEqual(kept?.containerStatus("app")?["restartCount"], 0)
        XCTAssertEqual(kept?.phase, "Running")
        XCTAssertEqual(kept?.value(at: "status.podIP"), keeper.value(at: "status.podIP"), "the pod keeps its address")
        XCTAssertEqual(cluster.pod("quitter")?.value(at: "status.podIP"), quitter.value(at: "status.podIP"))

        // New pods never get an address that an adopted pod holds.
        try cluster.createPod("newcomer", node: "node-1", containers: [["name": "app", "image": "img:1"]])
        let newcomer = waitForPhase("newcomer", "Running")?.value(at: "status.podIP")
        XCTAssertNotEqual(newcomer, keeper.value(at: "status.podIP"))
        XCTAssertNotEqual(newcomer, quitter.value(at: "status.podIP"))
    }
}
