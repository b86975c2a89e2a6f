@testable import FairNode
import FairKube
import Foundation
import XCTest

/// Many fake nodes in one process, as the scheduling benchmark runs them. Slow, so it runs only
/// with FAIR_NODE_SCALE=1 (e.g. `FAIR_NODE_SCALE=1 swift test --filter AgentScaleTests`).
final class AgentScaleTests: AgentTestCase {
    func testHundredFakeNodesStayCheap() throws {
        guard ProcessInfo.processInfo.environment["FAIR_NODE_SCALE"] == "1" else { throw XCTSkip("set FAIR_NODE_SCALE=1 to run") }
        let nodes = 100, pods = 2000
        let threadsBefore = Self.threadCount()
        let started = Date()
        for index in 0..<nodes {
            var options = NodeOptions(name: "fake-\(index)", dataDirectory: cluster.nodeDirectory("fake-\(index)"))
            options.capacity = ["cpu": "32", "memory": "256Gi", "pods": "110"]
            try startAgent(options, runtime: FakeRuntime())
        }
        print("scale: \(nodes) agents started in \(String(format: "%.2f", Date().timeIntervalSince(started))) s; threads \(threadsBefore) → \(Self.threadCount())")

        let creating = Date()
        for index in 0..<pods {
            try cluster.createPod("p\(index)", node: "fake-\(index % nodes)", containers: [["name": "c", "image": "img:1"]])
        }
        let created = Date()
        let running = eventually("all pods Running", timeout: 300, {
            (try? client.list(.pods, namespace: "default", fieldSelector: "status.phase=Running"))?["items"]?.arrayValue?.count ?? 0
        }, until: { $0 >= pods })
        let done = Date()
        print("scale: \(pods) pods created in \(String(format: "%.2f", created.timeIntervalSince(creating))) s, all \(running) Running after \(String(format: "%.2f", done.timeIntervalSince(creating))) s; threads now \(Self.threadCount())")
        Thread.sleep(forTimeInterval: 3)
        print("scale: threads after 3 s idle \(Self.threadCount())")
        // One informer thread per agent, plus a handful of shared pool threads.
        XCTAssertLessThan(Self.threadCount(), threadsBefore + nodes + 64)
    }

    static func threadCount() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
        return Int(line?.split(separator: "\t").last ?? "") ?? -1
    }
}
