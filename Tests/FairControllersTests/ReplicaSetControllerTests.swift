import FairKube
import Foundation
import XCTest

final class ReplicaSetControllerTests: ControllerTestCase {
    private func createReplicaSet(_ name: String, replicas: Int64) throws -> JSONValue {
        try client.create(.replicaSets, [
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": .string(name)],
            "spec": ["replicas": .int(replicas), "selector": ["matchLabels": ["app": .string(name)]],
                     "template": ["metadata": ["labels": ["app": .string(name)]], "spec": ["containers": [Self.container()]]]],
        ])
    }

    private func replicaSet(_ name: String) throws -> JSONValue { try client.get(.replicaSets, name: name) }

    private func waitForActive(_ count: Int, _ selector: String) throws -> [JSONValue] {
        try eventually("\(count) active pods") { () -> [JSONValue]? in
            let pods = try activePods(selector)
            guard pods.count == count else { return nil }
            return pods
        }
    }

    func testScalesUpAndDownKeepingReadyPodsAndReplacesFailedOnes() throws {
        startControllers()
        let created = try createReplicaSet("web", replicas: 3)
        let initial = try waitForActive(3, "app=web")
        for pod in initial {
            XCTAssertEqual(pod.ownerReferences.first?["uid"]?.stringValue, created.uid)
            XCTAssertTrue(pod.name?.hasPrefix("web-") ?? false)
        }
        try stays("exactly 3 pods", for: 0.3) { try pods("app=web").count == 3 }

        _ = try client.mergePatch(.replicaSets, name: "web", ["spec": ["replicas": 5]], subresource: "scale")
        let five = try waitForActive(5, "app=web")
        let keep = Array(five.prefix(2))
        for pod in keep { try markRunning(pod) }
        try waitUntil("readyReplicas 2") { try replicaSet("web").value(at: "status.readyReplicas")?.intValue == 2 }

        _ = try client.mergePatch(.replicaSets, name: "web", ["spec": ["replicas": 2]])
        let left = try waitForActive(2, "app=web")
        XCTAssertEqual(Set(left.compactMap(\.uid)), Set(keep.compactMap(\.uid)), "the ready pods are the ones kept")
        let status = try eventually("status after scale-down") { () -> JSONValue? in
            let rs = try replicaSet("web")
            guard rs.value(at: "status.replicas")?.intValue == 2 else { return nil }
            return rs
        }
        XCTAssertEqual(status.value(at: "status.readyReplicas")?.intValue, 2)
        XCTAssertEqual(status.value(at: "status.availableReplicas")?.intValue, 2)
        XCTAssertEqual(status.value(at: "status.fullyLabeledReplicas")?.intValue, 2)
        XCTAssertEqual(status.value(at: "status.observedGeneration"), status.value(at: "metadata.generation"))

        try markFinished(keep[0], succeeded: false)
        let replaced = try waitForActive(2, "app=web")
        XCTAssertTrue(replaced.contains { $0.uid == keep[1].uid })
        XCTAssertFalse(replaced.contains { $0.uid == keep[0].uid })
        try waitUntil("the failed pod deleted") { try !pods("app=web").contains { $0.uid == keep[0].uid } }
        try stays("two pods", for: 0.3) { try pods("app=web").count == 2 }
    }

    func testAdoptsMatchingOrphansAndReleasesPodsThatStopMatching() throws {
        startControllers()
        let orphan = try client.create(.pods, ["metadata": ["name": "stray", "labels": ["app": "api"]],
                                               "spec": ["containers": [Self.container()]]])
        // Running and ready, so that it is the pod kept however the controller learns of it: if
        // its watch delivers the ReplicaSet before the orphan, it makes two pods, adopts the
        // orphan and deletes a surplus one, and kube's ranking deletes a pending pod first.
        try markRunning(orphan)
        let created = try createReplicaSet("api", replicas: 2)
        try waitUntil("the orphan adopted") {
            try client.get(.pods, name: "stray").ownerReferences.first?["uid"]?.stringValue == created.uid
        }
        _ = try waitForActive(2, "app=api")
        try stays("the orphan counts as one of the two", for: 0.3) { try pods("app=api").count == 2 }

        _ = try client.mergePatch(.pods, name: "stray", ["metadata": ["labels": ["app": "other"]]])
        try waitUntil("the pod released") { try client.get(.pods, name: "stray").ownerReferences.isEmpty }
        let owned = try waitForActive(2, "app=api")
        XCTAssertFalse(owned.contains { $0.uid == orphan.uid })
    }
}
