@testable import FairNode
import FairKube
import FairRegistry
import Foundation
import XCTest

final class AgentRestartPolicyTests: AgentTestCase {
    func testNeverPolicySucceedsOrFailsWithTheExitCodes() throws {
        let runtime = ScriptedRuntime()
        runtime.script("ok", .init(exitAfter: 0.2, exitCode: 0))
        runtime.script("bad", .init(exitAfter: 0.2, exitCode: 3))
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("good", node: "node-1", containers: [["name": "ok", "image": "img:1"]], restartPolicy: "Never")
        try cluster.createPod("broken", node: "node-1", containers: [
            ["name": "ok", "image": "img:1"], ["name": "bad", "image": "img:1"],
        ], restartPolicy: "Never")

        let good = waitForPhase("good", "Succeeded")
        XCTAssertEqual(good?.containerStatus("ok")?.value(at: "state.terminated.exitCode"), 0)
        XCTAssertEqual(good?.containerStatus("ok")?.value(at: "state.terminated.reason"), "Completed")
        XCTAssertNotNil(good?.containerStatus("ok")?.value(at: "state.terminated.finishedAt"))
        XCTAssertEqual(good?.condition("Ready"), "False")

        let broken = waitForPhase("broken", "Failed")
        XCTAssertEqual(broken?.containerStatus("bad")?.value(at: "state.terminated.exitCode"), 3)
        XCTAssertEqual(broken?.containerStatus("bad")?.value(at: "state.terminated.reason"), "Error")
        XCTAssertEqual(broken?.containerStatus("ok")?.value(at: "state.terminated.exitCode"), 0)
        XCTAssertEqual(runtime.specs.filter { $0.podName == "broken" }.count, 2, "Never restarts nothing")
    }

    func testOnFailureRestartsOnlyFailuresThenSucceeds() throws {
        let runtime = ScriptedRuntime()
        runtime.script("job", .init(exitAfter: 0.1, exitCode: 1))
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("job", node: "node-1", containers: [["name": "job", "image": "img:1"]], restartPolicy: "OnFailure")
        let restarted = eventually("a restart", { cluster.pod("job")?.containerStatus("job") },
                                   until: { ($0?["restartCount"]?.intValue ?? 0) >= 1 })
        XCTAssertEqual(restarted?.value(at: "lastState.terminated.exitCode"), 1)
        XCTAssertEqual(cluster.pod("job")?.phase, "Running", "OnFailure with a failure is still running (restarting)")
        runtime.script("job", .init(exitAfter: 0.1, exitCode: 0))
        let done = waitForPhase("job", "Succeeded", timeout: 15)
        XCTAssertEqual(done?.containerStatus("job")?.value(at: "state.terminated.exitCode"), 0)
    }

    func testAlwaysRestartsWithCrashLoopBackOff() throws {
        let runtime = ScriptedRuntime()
        runtime.script("crash", .init(exitAfter: 0.05, exitCode: 2))
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("crasher", node: "node-1", containers: [["name": "crash", "image": "img:1"]])

        // The first restart is immediate; the next waits the back-off (1 s in these tests, then 2 s).
        let backingOff = eventually("CrashLoopBackOff", { cluster.pod("crasher")?.containerStatus("crash") },
                                    until: { $0?.value(at: "state.waiting.reason") == "CrashLoopBackOff" })
        XCTAssertEqual(backingOff?["restartCount"], 1)
        XCTAssertEqual(backingOff?.value(at: "lastState.terminated.exitCode"), 2)
        XCTAssertTrue(backingOff?.value(at: "state.waiting.message")?.stringValue?.hasPrefix("back-off 1s restarting failed container=crash pod=crasher_default(") ?? false,
                      "\(String(describing: backingOff))")
        XCTAssertEqual(cluster.pod("crasher")?.phase, "Running", "Always never finishes")

        let starts = eventually("four starts", timeout: 15, { runtime.specs.filter { $0.podName == "crasher" }.count }, until: { $0 >= 4 })
        XCTAssertGreaterThanOrEqual(starts, 4)
        XCTAssertEqual(runtime.specs.filter { $0.podName == "crasher" }.map(\.id).prefix(4).map { $0.split(separator: "-").last.map(String.init) ?? "" },
                       ["0", "1", "2", "3"], "each restart is a new instance with the restart count in its id")
        let status = cluster.pod("crasher")?.containerStatus("crash")
        XCTAssertGreaterThanOrEqual(status?["restartCount"]?.intValue ?? 0, 3)
    }

    func testBackOffDelaysGrow() throws {
        let runtime = ScriptedRuntime()
        runtime.script("crash", .init(exitAfter: 0.05, exitCode: 1))
        let recorder = StartRecorder(runtime: runtime)
        try startAgent(quickOptions("node-1"), runtime: recorder)
        try cluster.createPod("crasher", node: "node-1", containers: [["name": "crash", "image": "img:1"]])
        eventually("four starts", timeout: 15, { recorder.starts.count }, until: { $0 >= 4 })
        let times = recorder.starts
        let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }
        // immediate, then 1 s, then 2 s (the cap in these tests).
        XCTAssertLessThan(gaps[0], 0.9, "\(gaps)")
        XCTAssertGreaterThanOrEqual(gaps[1], 0.95, "\(gaps)")
        XCTAssertGreaterThanOrEqual(gaps[2], 1.9, "\(gaps)")
    }
}

/// Wraps a runtime and notes when each container start happened.
final class StartRecorder: ContainerRuntime, @unchecked Sendable {
    private let runtime: ContainerRuntime
    private let lock = NSLock()
    private var times: [Date] = []

    init(runtime: ContainerRuntime) { self.runtime = runtime }

    var starts: [Date] {
        lock.lock(); defer { lock.unlock() }
        return times
    }

    func prepare(image reference: String, pullPolicy: String, credentials: PullCredentials) throws -> PreparedImage {
        try runtime.prepare(image: reference, pullPolicy: pullPolicy, credentials: credentials)
    }

    func start(_ spec: ContainerSpec) throws {
        lock.lock()
        times.append(Date())
        lock.unlock()
        try runtime.start(spec)
    }

    func state(id: String) -> ContainerState { runtime.state(id: id) }
    func signal(id: String, _ signal: Int32) throws { try runtime.signal(id: id, signal) }
    func remove(id: String) throws { try runtime.remove(id: id) }
    func containerIDs() throws -> [String] { try runtime.containerIDs() }
}
