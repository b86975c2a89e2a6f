@testable import FairNode
import FairKube
import Foundation
import XCTest

final class AgentProbeTests: AgentTestCase {
    func testReadinessProbeDrivesReadyCondition() throws {
        try startAgent(quickOptions("node-1"), runtime: ScriptedRuntime())
        let port = Int.random(in: 20000...30000)
        try cluster.createPod("web", node: "node-1", containers: [
            ["name": "web", "image": "img:1", "ports": [["name": "http", "containerPort": .int(Int64(port))]],
             "readinessProbe": ["httpGet": ["path": "/healthz", "port": "http"], "periodSeconds": 1, "failureThreshold": 1]],
        ])
        let running = waitForPhase("web", "Running")
        XCTAssertEqual(running?.condition("Ready"), "False", "not ready before the probe passes")
        XCTAssertEqual(running?.containerStatus("web")?["ready"], false)
        let ip = try XCTUnwrap(running?.value(at: "status.podIP")?.stringValue)

        let listener = try TestHTTPListener(host: ip, port: port)
        defer { listener.close() }
        let ready = eventually("Ready", { cluster.pod("web") }, until: { $0?.condition("Ready") == "True" })
        XCTAssertEqual(ready?.condition("ContainersReady"), "True")
        XCTAssertEqual(ready?.containerStatus("web")?["ready"], true)

        listener.respond(with: 503)
        let unready = eventually("not Ready again", { cluster.pod("web") }, until: { $0?.condition("Ready") == "False" })
        XCTAssertEqual(unready?.value(at: "status.conditions")?.arrayValue?.first { $0["type"] == "Ready" }?["reason"], "ContainersNotReady")
        XCTAssertEqual(unready?.phase, "Running")
    }

    func testLivenessFailureRestartsTheContainer() throws {
        let runtime = ScriptedRuntime()
        try startAgent(quickOptions("node-1"), runtime: runtime)
        // Nothing listens on this port of the pod's address: every check fails.
        try cluster.createPod("sick", node: "node-1", containers: [
            ["name": "app", "image": "img:1", "livenessProbe": ["tcpSocket": ["port": 29999], "periodSeconds": 1, "failureThreshold": 2]],
        ])
        let restarted = eventually("a liveness restart", { cluster.pod("sick")?.containerStatus("app") },
                                   until: { ($0?["restartCount"]?.intValue ?? 0) >= 1 })
        let first = try XCTUnwrap(runtime.specs.first { $0.podName == "sick" })
        XCTAssertEqual(runtime.signalsSent(to: first.id).first, SIGTERM, "a failed liveness probe stops the container gracefully")
        XCTAssertEqual(restarted?.value(at: "lastState.terminated.exitCode")?.intValue, Int64(128 + SIGTERM))
        XCTAssertEqual(cluster.pod("sick")?.phase, "Running")
    }

    func testLivenessRestartRespectsNeverPolicy() throws {
        let runtime = ScriptedRuntime()
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("once", node: "node-1", containers: [
            ["name": "app", "image": "img:1", "livenessProbe": ["tcpSocket": ["port": 29998], "periodSeconds": 1, "failureThreshold": 1]],
        ], restartPolicy: "Never")
        let failed = waitForPhase("once", "Failed")
        XCTAssertEqual(failed?.containerStatus("app")?["restartCount"], 0)
        XCTAssertEqual(runtime.specs.filter { $0.podName == "once" }.count, 1)
    }
}
