@testable import FairNode
import FairKube
import Foundation
import XCTest

final class AgentRegistrationTests: AgentTestCase {
    func testRegistersTheNodeAndKeepsItsHeartbeat() throws {
        var options = quickOptions("node-a")
        options.labels = ["pool": "gpu"]
        options.capacity = ["nvidia.com/gpu": "2", "cpu": "6"]
        let agent = try startAgent(options, runtime: FakeRuntime())

        let node = try client.get(.nodes, name: "node-a")
        XCTAssertEqual(node.labels["kubernetes.io/hostname"], "node-a")
        XCTAssertEqual(node.labels["kubernetes.io/os"], "linux")
        XCTAssertEqual(node.labels["kubernetes.io/arch"], "amd64")
        XCTAssertEqual(node.labels["pool"], "gpu")
        XCTAssertEqual(node.value(at: "spec.podCIDR"), "127.20.0.0/16")
        XCTAssertEqual(node.value(at: "status.capacity.cpu"), "6")
        XCTAssertEqual(node.value(at: "status.allocatable")?["nvidia.com/gpu"], "2")
        XCTAssertEqual(node.value(at: "status.capacity.pods"), "110")
        let memory = Quantity(node.value(at: "status.capacity.memory"))
        XCTAssertGreaterThan(memory?.units ?? 0, 1 << 20, "memory comes from /proc/meminfo")
        XCTAssertEqual(node.value(at: "status.nodeInfo.containerRuntimeVersion"), "fake://0")
        XCTAssertEqual(node.value(at: "status.daemonEndpoints.kubeletEndpoint.Port")?.intValue, Int64(agent.kubeletPort))
        XCTAssertGreaterThan(agent.kubeletPort, 0)
        let addresses = node.value(at: "status.addresses")?.arrayValue ?? []
        XCTAssertTrue(addresses.contains(["type": "InternalIP", "address": "127.0.0.1"]))
        XCTAssertTrue(addresses.contains(["type": "Hostname", "address": "node-a"]))
        XCTAssertEqual(node.condition("Ready"), "True")
        XCTAssertEqual(node.condition("MemoryPressure"), "False")
        XCTAssertEqual(node.condition("DiskPressure"), "False")
        XCTAssertEqual(node.condition("PIDPressure"), "False")

        func heartbeat() -> String? {
            let node = try? client.get(.nodes, name: "node-a")
            return node?.value(at: "status.conditions")?.arrayValue?.first { $0["type"] == "Ready" }?["lastHeartbeatTime"]?.stringValue
        }
        let first = heartbeat()
        XCTAssertNotNil(first)
        // Heartbeats are RFC 3339 seconds: the next one differs within a couple of intervals.
        eventually("a newer heartbeat", timeout: 5, heartbeat, until: { $0 != nil && $0 != first })
    }

    func testRestartUpdatesTheExistingNode() throws {
        let first = try startAgent(quickOptions("node-b"), runtime: FakeRuntime())
        let created = try client.get(.nodes, name: "node-b")
        stopAgent(first)
        var options = quickOptions("node-b")
        options.labels = ["zone": "z1"]
        try startAgent(options, runtime: FakeRuntime())
        let updated = try client.get(.nodes, name: "node-b")
        XCTAssertEqual(updated.uid, created.uid, "the same Node, updated rather than replaced")
        XCTAssertEqual(updated.labels["zone"], "z1")
    }

    func testDeletedNodeIsRegisteredAgain() throws {
        try startAgent(quickOptions("node-c"), runtime: FakeRuntime())
        try client.delete(.nodes, name: "node-c")
        eventually("node-c back", timeout: 5, { try? client.get(.nodes, name: "node-c") }, until: { $0 != nil })
    }

    func testOptionsAreValidatedWithClearErrors() {
        var options = quickOptions("node-d", podCIDR: "10.0.0.0/16")
        XCTAssertThrowsError(try NodeAgent(client: client, options: options, runtime: FakeRuntime())) { error in
            XCTAssertTrue("\(error)".contains("must lie inside 127.0.0.0/8"), "\(error)")
        }
        options.podCIDR = "127.20.0.1/16"
        XCTAssertThrowsError(try NodeAgent(client: client, options: options, runtime: FakeRuntime())) { error in
            XCTAssertTrue("\(error)".contains("host bits"), "\(error)")
        }
        options.podCIDR = "127.20.0.0"
        XCTAssertThrowsError(try NodeAgent(client: client, options: options, runtime: FakeRuntime()))
        options = quickOptions("Node_D")
        XCTAssertThrowsError(try NodeAgent(client: client, options: options, runtime: FakeRuntime())) { error in
            XCTAssertTrue("\(error)".contains("Node_D"), "\(error)")
        }
        options = quickOptions("node-d")
        options.capacity = ["cpu": "lots"]
        XCTAssertThrowsError(try NodeAgent(client: client, options: options, runtime: FakeRuntime())) { error in
            XCTAssertTrue("\(error)".contains("cpu=\"lots\""), "\(error)")
        }
    }
}
