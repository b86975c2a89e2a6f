@testable import FairNode
import FairKube
import Foundation
import XCTest

final class AgentInitContainerTests: AgentTestCase {
    func testInitContainersRunToSuccessBeforeTheApp() throws {
        let runtime = ScriptedRuntime()
        runtime.script("fetch", .init(exitAfter: 0.5, exitCode: 0))
        runtime.script("migrate", .init(exitAfter: 0.2, exitCode: 0))
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("staged", node: "node-1", containers: [["name": "app", "image": "img:1"]],
                              extraSpec: ["initContainers": [["name": "fetch", "image": "img:1"], ["name": "migrate", "image": "img:1"]]])

        let initializing = eventually("initializing", { cluster.pod("staged") },
                                      until: { $0?.condition("Initialized") == "False" })
        XCTAssertEqual(initializing?.phase, "Pending")
        XCTAssertEqual(initializing?.containerStatus("app")?.value(at: "state.waiting.reason"), "PodInitializing")

        let running = waitForPhase("staged", "Running")
        XCTAssertEqual(running?.condition("Initialized"), "True")
        XCTAssertEqual(runtime.specs.map(\.containerName), ["fetch", "migrate", "app"], "one init container at a time, then the app")
        let initStatuses = running?.value(at: "status.initContainerStatuses")?.arrayValue ?? []
        XCTAssertEqual(initStatuses.map { $0["name"] }, ["fetch", "migrate"])
        XCTAssertEqual(initStatuses.map { $0.value(at: "state.terminated.reason") }, ["Completed", "Completed"])
        XCTAssertEqual(initStatuses.map { $0["ready"] }, [true, true])
    }

    func testFailedInitContainerFailsANeverPod() throws {
        let runtime = ScriptedRuntime()
        runtime.script("setup", .init(exitAfter: 0.1, exitCode: 4))
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("doomed", node: "node-1", containers: [["name": "app", "image": "img:1"]], restartPolicy: "Never",
                              extraSpec: ["initContainers": [["name": "setup", "image": "img:1"]]])
        let failed = waitForPhase("doomed", "Failed")
        XCTAssertEqual(failed?.value(at: "status.initContainerStatuses")?.arrayValue?.first?.value(at: "state.terminated.exitCode"), 4)
        XCTAssertEqual(runtime.specs.map(\.containerName), ["setup"], "the app never starts")
    }
}
