@testable import FairNode
import FairKube
import Foundation
import XCTest

final class AgentLogTests: AgentTestCase {
    private func logs(_ agent: NodeAgent, _ path: String, as caller: TestNodeLogs.Caller = .apiServer, timeout: TimeInterval = 10) throws -> TestHTTPResponse {
        try TestNodeLogs.get(agent, cluster: cluster, path: path, as: caller, timeout: timeout)
    }

    func testTailAuthAndNotFound() throws {
        let runtime = ScriptedRuntime()
        runtime.script("app", .init(output: "one\ntwo\nthree\n"))
        let agent = try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("talker", node: "node-1", containers: [["name": "app", "image": "img:1"]])
        waitForPhase("talker", "Running")
        let all = try logs(agent, "/containerLogs/default/talker/app")
        XCTAssertEqual(all.status, 200)
        XCTAssertEqual(all.body, "one\ntwo\nthree\n")
        XCTAssertEqual(try logs(agent, "/containerLogs/default/talker/app?tailLines=2").body, "two\nthree\n")
        XCTAssertEqual(try logs(agent, "/containerLogs/default/talker/app?tailLines=0").body, "")
        XCTAssertEqual(try logs(agent, "/containerLogs/default/talker/app?tailLines=10").body, "one\ntwo\nthree\n")

        let stamped = try logs(agent, "/containerLogs/default/talker/app?timestamps=true&tailLines=1").body
        let parts = stamped.split(separator: " ", maxSplits: 1)
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts.last, "three\n")
        XCTAssertTrue(parts.first?.hasSuffix("Z") ?? false, stamped)
        XCTAssertEqual(parts.first?.count, "2024-01-01T00:00:00.000000000Z".count, stamped)

        let noPod = try logs(agent, "/containerLogs/default/nobody/app")
        XCTAssertEqual(noPod.status, 404)
        XCTAssertTrue(noPod.body.contains("pod default/nobody is not on node node-1"), noPod.body)
        let noContainer = try logs(agent, "/containerLogs/default/talker/nope")
        XCTAssertEqual(noContainer.status, 404)
        XCTAssertTrue(noContainer.body.contains("container \"nope\" is not in pod default/talker (its containers: app)"), noContainer.body)
        XCTAssertEqual(try logs(agent, "/containerLogs/default/talker/app?previous=true").status, 400)
    }

    func testFollowStreamsUntilTheContainerExits() throws {
        let runtime = ScriptedRuntime()
        runtime.script("app", .init(output: "start\n"))
        let agent = try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("follower", node: "node-1", containers: [["name": "app", "image": "img:1"]], restartPolicy: "Never")
        let pod = try XCTUnwrap(waitForPhase("follower", "Running"))
        let id = "\(pod.uid ?? "")-app-0"

        let result = ResultBox()
        let cluster = self.cluster!
        let reader = Thread {
            result.set(Result { try TestNodeLogs.get(agent, cluster: cluster, path: "/containerLogs/default/follower/app?follow=true", timeout: 20) })
        }
        reader.start()
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertNil(result.value, "a follow stays open while the container runs")
        runtime.appendLog(id, "more\n")
        Thread.sleep(forTimeInterval: 0.3)
        runtime.appendLog(id, "last\n")
        runtime.exit(id, code: 0)
        let response = eventually("the follow to end", { result.value }, until: { $0 != nil })
        XCTAssertEqual(try response?.get().body, "start\nmore\nlast\n")
    }

    func testPreviousServesTheEndedInstance() throws {
        let runtime = ScriptedRuntime()
        runtime.script("app", .init(exitAfter: 0.1, exitCode: 1, output: "attempt\n"))
        let agent = try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("retry", node: "node-1", containers: [["name": "app", "image": "img:1"]], restartPolicy: "OnFailure")
        eventually("a restart", { cluster.pod("retry")?.containerStatus("app")?["restartCount"]?.intValue ?? 0 }, until: { $0 >= 1 })
        let previous = try logs(agent, "/containerLogs/default/retry/app?previous=true")
        XCTAssertEqual(previous.status, 200)
        XCTAssertEqual(previous.body, "attempt\n")
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<TestHTTPResponse, Error>?

    func set(_ value: Result<TestHTTPResponse, Error>) {
        lock.lock(); defer { lock.unlock() }
        stored = value
    }

    var value: Result<TestHTTPResponse, Error>? {
        lock.lock(); defer { lock.unlock() }
        return stored
    }
}
