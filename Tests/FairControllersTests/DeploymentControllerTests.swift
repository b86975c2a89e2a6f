import FairKube
import Foundation
import XCTest

final class DeploymentControllerTests: ControllerTestCase {
    private func createDeployment(_ name: String, replicas: Int64, strategy: JSONValue) throws -> JSONValue {
        try client.create(.deployments, [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": ["replicas": .int(replicas), "strategy": strategy,
                     "selector": ["matchLabels": ["app": .string(name)]],
                     "template": ["metadata": ["labels": ["app": .string(name)]],
                                  "spec": ["containers": [Self.container(image: "registry.local/model:1")]]]],
        ])
    }

    private func deployment(_ name: String) throws -> JSONValue { try client.get(.deployments, name: name) }

    private func setImage(_ name: String, _ image: String) throws {
        _ = try client.mergePatch(.deployments, name: name, ["spec": ["template": ["spec": [
            "containers": [Self.container(image: image)]]]]])
    }

    private func replicaSets(_ app: String) throws -> [JSONValue] { try list(.replicaSets, labelSelector: "app=\(app)") }

    /// Marks not-yet-ready pods ready until the rollout settles, checking `invariant` all along.
    private func playNode(_ app: String, until done: () throws -> Bool, invariant: () throws -> Void) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            try invariant()
            if try done() { return }
            if let pod = try activePods("app=\(app)").first(where: { !isReady($0) }) {
                try markRunning(pod)
            }
            settle()
        }
        throw Timeout(description: "the rollout of \(app) did not finish")
    }

    private func isRolledOut(_ name: String, replicas: Int64) throws -> JSONValue? {
        let deployment = try deployment(name)
        let status = deployment["status"]
        guard status?["observedGeneration"] == deployment.value(at: "metadata.generation"),
              status?["updatedReplicas"]?.intValue == replicas, status?["replicas"]?.intValue == replicas,
              status?["availableReplicas"]?.intValue == replicas,
              condition(deployment, "Progressing")?["reason"]?.stringValue == "NewReplicaSetAvailable" else { return nil }
        return deployment
    }

    func testRollingUpdateNeverDropsBelowTheReadyReplicas() throws {
        startControllers()
        let created = try createDeployment("serve", replicas: 3,
                                           strategy: ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1, "maxUnavailable": 0]])
        let first = try eventually("the first ReplicaSet") { try replicaSets("serve").first }
        let hash = try XCTUnwrap(first.labels["pod-template-hash"])
        XCTAssertEqual(first.name, "serve-\(hash)")
        XCTAssertEqual(first.ownerReferences.first?["uid"]?.stringValue, created.uid)
        XCTAssertEqual(first.value(at: "spec.selector.matchLabels.pod-template-hash")?.stringValue, hash)
        XCTAssertEqual(first.value(at: "metadata.annotations")?["deployment.kubernetes.io/revision"], "1")
        try playNode("serve", until: { try isRolledOut("serve", replicas: 3) != nil }, invariant: {})
        let firstPods = try activePods("app=serve")
        XCTAssertEqual(firstPods.count, 3)
        XCTAssertTrue(firstPods.allSatisfy { $0.labels["pod-template-hash"] == hash })
        XCTAssertEqual(condition(try deployment("serve"), "Available")?["status"], "True")

        try setImage("serve", "registry.local/model:2")
        var sawSurge = false
        try playNode("serve", until: {
            guard let rolled = try isRolledOut("serve", replicas: 3) else { return false }
            return rolled.value(at: "metadata.annotations")?["deployment.kubernetes.io/revision"] == "2"
        }, invariant: {
            let pods = try activePods("app=serve")
            let ready = pods.filter(isReady).count
            XCTAssertGreaterThanOrEqual(ready, 3, "ready pods during the rollout")
            XCTAssertLessThanOrEqual(pods.count, 4, "pods during the rollout (maxSurge 1)")
            if pods.count == 4 { sawSurge = true }
            if ready < 3 || pods.count > 4 { throw Timeout(description: "rollout broke its bounds: \(ready) ready of \(pods.count)") }
        })
        XCTAssertTrue(sawSurge)
        let sets = try replicaSets("serve")
        XCTAssertEqual(sets.count, 2, "the old ReplicaSet is kept for history")
        let old = try XCTUnwrap(sets.first { $0.uid == first.uid })
        XCTAssertEqual(old.value(at: "spec.replicas")?.intValue, 0)
        let new = try XCTUnwrap(sets.first { $0.uid != first.uid })
        XCTAssertEqual(new.value(at: "metadata.annotations")?["deployment.kubernetes.io/revision"], "2")
        try waitUntil("only new pods") {
            let pods = try activePods("app=serve")
            return pods.count == 3 && pods.allSatisfy { $0.labels["pod-template-hash"] == new.labels["pod-template-hash"] }
        }
        XCTAssertTrue(try eventReasons(for: "serve").contains("ScalingReplicaSet"), "recorded when the first step was taken")
    }

    func testRecreateStopsEveryOldPodBeforeStartingNewOnes() throws {
        startControllers()
        _ = try createDeployment("batch", replicas: 2, strategy: ["type": "Recreate"])
        try playNode("batch", until: { try isRolledOut("batch", replicas: 2) != nil }, invariant: {})
        let oldHash = try XCTUnwrap(try activePods("app=batch").first?.labels["pod-template-hash"])

        try setImage("batch", "registry.local/model:2")
        try playNode("batch", until: {
            try isRolledOut("batch", replicas: 2)?.value(at: "metadata.annotations")?["deployment.kubernetes.io/revision"] == "2"
        }, invariant: {
            let hashes = Set(try pods("app=batch").compactMap { $0.labels["pod-template-hash"] })
            if hashes.count > 1 { throw Timeout(description: "old and new pods side by side: \(hashes)") }
        })
        let recreated = try activePods("app=batch")
        XCTAssertEqual(recreated.count, 2)
        XCTAssertTrue(recreated.allSatisfy { $0.labels["pod-template-hash"] != oldHash })
    }

    func testScalingAndHistoryLimit() throws {
        startControllers()
        _ = try createDeployment("hist", replicas: 1, strategy: ["type": "Recreate"])
        _ = try client.mergePatch(.deployments, name: "hist", ["spec": ["revisionHistoryLimit": 1]])
        try playNode("hist", until: { try isRolledOut("hist", replicas: 1) != nil }, invariant: {})
        for version in 2...3 {
            try setImage("hist", "registry.local/model:\(version)")
            try playNode("hist", until: {
                try isRolledOut("hist", replicas: 1)?.value(at: "metadata.annotations")?["deployment.kubernetes.io/revision"]
                    == .string(String(version))
            }, invariant: {})
        }
        try waitUntil("one old ReplicaSet kept") { try replicaSets("hist").count == 2 }
        let revisions = Set(try replicaSets("hist").compactMap { $0.value(at: "metadata.annotations")?["deployment.kubernetes.io/revision"]?.stringValue })
        XCTAssertEqual(revisions, ["2", "3"])

        _ = try client.mergePatch(.deployments, name: "hist", ["spec": ["replicas": 3]], subresource: "scale")
        try playNode("hist", until: { try isRolledOut("hist", replicas: 3) != nil }, invariant: {})
        XCTAssertEqual(try activePods("app=hist").count, 3)

        // Every annotation the controller writes is a whole key: nothing split at its dots.
        try waitUntil("the scale reaches the ReplicaSet's annotations") {
            try replicaSets("hist").contains { $0.value(at: "metadata.annotations")?["deployment.kubernetes.io/desired-replicas"] == "3" }
        }
        for replicaSet in try replicaSets("hist") {
            let annotations = replicaSet.value(at: "metadata.annotations")?.objectValue ?? [:]
            XCTAssertEqual(Set(annotations.keys), ["deployment.kubernetes.io/revision", "deployment.kubernetes.io/desired-replicas",
                                                   "deployment.kubernetes.io/max-replicas"], "\(annotations)")
            XCTAssertTrue(annotations.values.allSatisfy { $0.stringValue != nil }, "\(annotations)")
        }
    }
}
