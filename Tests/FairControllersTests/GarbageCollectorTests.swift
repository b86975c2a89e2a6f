import FairKube
import Foundation
import XCTest

final class GarbageCollectorTests: ControllerTestCase {
    private func pod(_ name: String, owners: [JSONValue]) throws -> JSONValue {
        try client.create(.pods, ["metadata": ["name": .string(name), "ownerReferences": .array(owners)],
                                  "spec": ["containers": [Self.container()]]])
    }

    private func exists(_ name: String) throws -> Bool {
        do {
            _ = try client.get(.pods, name: name)
            return true
        } catch let error as KubeError where error.isNotFound {
            return false
        }
    }

    func testDeletesOrphansOfVanishedOwnersOnly() throws {
        // An owner that stays: a ReplicaSet selecting nothing the test creates.
        let keeper = try client.create(.replicaSets, [
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "keeper"],
            "spec": ["replicas": 0, "selector": ["matchLabels": ["app": "keeper"]],
                     "template": ["metadata": ["labels": ["app": "keeper"]], "spec": ["containers": [Self.container()]]]],
        ])
        let live: JSONValue = ["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "keeper", "uid": .string(keeper.uid ?? "")]
        let ghost: JSONValue = ["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "ghost", "uid": "0b0e6a43-dead-4bee-8000-000000000001"]
        let recreated: JSONValue = ["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "keeper", "uid": "0b0e6a43-dead-4bee-8000-000000000002"]
        let foreign: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "0b0e6a43-dead-4bee-8000-000000000003"]
        _ = try pod("orphan", owners: [ghost])
        _ = try pod("stale-uid", owners: [recreated])
        _ = try pod("owned", owners: [live])
        _ = try pod("half", owners: [live, ghost])
        _ = try pod("foreign", owners: [foreign])

        // Objects whose owners vanished before the controllers started, as after a restart.
        startControllers()
        try waitUntil("the orphan deleted") { try !exists("orphan") }
        try waitUntil("the pod of an owner with another uid deleted") { try !exists("stale-uid") }
        try waitUntil("the dangling reference dropped") {
            try client.get(.pods, name: "half").ownerReferences.map { $0["uid"] } == [live["uid"]]
        }
        try stays("pods with live or unknown owners kept", for: 0.5) { try exists("owned") && exists("foreign") && exists("half") }
    }
}
