import FairKube
import Foundation
import XCTest

final class StatefulSetControllerTests: ControllerTestCase {
    /// A set `web` of `replicas` pods with one claim template `data`. With `node`, its pods are
    /// created bound to that node, so a delete leaves them terminating until the test (playing
    /// the node) removes them.
    @discardableResult
    private func createSet(_ name: String = "web", replicas: Int64, policy: String = "OrderedReady",
                           node: String? = nil, image: String = "registry.local/app:1") throws -> JSONValue {
        var podSpec: JSONValue = ["containers": [Self.container(image: image)]]
        if let node { podSpec["nodeName"] = .string(node) }
        return try client.create(.statefulSets, [
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": .string(name)],
            "spec": ["replicas": .int(replicas), "serviceName": .string(name), "podManagementPolicy": .string(policy),
                     "selector": ["matchLabels": ["app": .string(name)]],
                     "template": ["metadata": ["labels": ["app": .string(name)]], "spec": podSpec],
                     "volumeClaimTemplates": [["metadata": ["name": "data"],
                                               "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]]],
        ])
    }

    private func set(_ name: String = "web") throws -> JSONValue { try client.get(.statefulSets, name: name) }

    private func podNames(_ selector: String = "app=web") throws -> [String] { try pods(selector).compactMap(\.name).sorted() }

    private func pod(_ name: String) throws -> JSONValue? {
        try pods().first { $0.name == name }
    }

    private func claimNames() throws -> [String] { try list(.persistentVolumeClaims).compactMap(\.name).sorted() }

    /// Waits for pod `name` to exist and not be terminating, then marks it Running and Ready.
    @discardableResult
    private func bringUp(_ name: String) throws -> JSONValue {
        let found = try eventually("pod \(name)") { () -> JSONValue? in
            guard let live = try pod(name), live.value(at: "metadata.deletionTimestamp") == nil else { return nil }
            return live
        }
        try markRunning(found)
        return found
    }

    private func isTerminating(_ name: String) throws -> Bool { try pod(name)?.value(at: "metadata.deletionTimestamp") != nil }

    private func revision(_ pod: JSONValue?) -> String? { pod?.value(at: ["metadata", "labels", "controller-revision-hash"])?.stringValue }

    func testOrderedReadyCreatesPodsOneAtATimeAndDeletesThemInReverse() throws {
        startControllers()
        let created = try createSet(replicas: 3, node: "n1")
        try waitUntil("web-0") { try podNames() == ["web-0"] }
        try stays("web-1 waits for web-0 to be ready", for: 0.3) { try podNames() == ["web-0"] }

        let first = try XCTUnwrap(try pod("web-0"))
        XCTAssertEqual(first.value(at: ["metadata", "labels", "statefulset.kubernetes.io/pod-name"]), "web-0")
        XCTAssertEqual(first.value(at: ["metadata", "labels", "apps.kubernetes.io/pod-index"]), "0")
        XCTAssertEqual(first.value(at: "spec.hostname"), "web-0")
        XCTAssertEqual(first.value(at: "spec.subdomain"), "web")
        XCTAssertEqual(first.ownerReferences.first?["uid"]?.stringValue, created.uid)
        let volume = first.value(at: "spec.volumes")?.arrayValue?.first { $0["name"] == "data" }
        XCTAssertEqual(volume?.value(at: "persistentVolumeClaim.claimName"), "data-web-0")
        XCTAssertEqual(try claimNames(), ["data-web-0"], "the claim is made with its pod, not ahead")
        let claim = try client.get(.persistentVolumeClaims, name: "data-web-0")
        XCTAssertEqual(claim.value(at: "metadata.labels.app"), "web", "claims carry the selector's labels")
        XCTAssertTrue(claim.ownerReferences.isEmpty, "Retain: the claim belongs to no one")

        try markRunning(first, ready: false)
        try stays("a running pod that is not ready holds the next back", for: 0.3) { try podNames() == ["web-0"] }
        try bringUp("web-0")
        try waitUntil("web-1") { try podNames() == ["web-0", "web-1"] }
        try stays("web-2 waits for web-1", for: 0.3) { try podNames() == ["web-0", "web-1"] }
        try bringUp("web-1")
        try waitUntil("web-2") { try podNames() == ["web-0", "web-1", "web-2"] }
        try bringUp("web-2")
        let ready = try eventually("3 ready replicas") { () -> JSONValue? in
            let object = try set()
            guard object.value(at: "status.readyReplicas")?.intValue == 3 else { return nil }
            return object
        }
        XCTAssertEqual(ready.value(at: "status.replicas"), 3)
        XCTAssertEqual(ready.value(at: "status.availableReplicas"), 3)
        XCTAssertEqual(ready.value(at: "status.currentReplicas"), 3)
        XCTAssertEqual(ready.value(at: "status.updatedReplicas"), 3)
        XCTAssertEqual(ready.value(at: "status.observedGeneration"), ready.value(at: "metadata.generation"))
        XCTAssertEqual(ready.value(at: "status.collisionCount"), 0)
        let revision = try XCTUnwrap(ready.value(at: "status.updateRevision")?.stringValue)
        XCTAssertTrue(revision.hasPrefix("web-"))
        XCTAssertEqual(ready.value(at: "status.currentRevision")?.stringValue, revision)
        XCTAssertEqual(try pods().map { self.revision($0) }, [revision, revision, revision])

        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": ["replicas": 1]], subresource: "scale")
        try waitUntil("web-2 terminating") { try isTerminating("web-2") }
        try stays("web-1 waits until web-2 is gone", for: 0.3) { try !isTerminating("web-1") }
        try client.delete(.pods, name: "web-2", gracePeriodSeconds: 0)
        try waitUntil("web-1 terminating") { try isTerminating("web-1") }
        XCTAssertFalse(try isTerminating("web-0"))
        try client.delete(.pods, name: "web-1", gracePeriodSeconds: 0)
        try waitUntil("one pod") { try podNames() == ["web-0"] }
        try stays("web-0 stays", for: 0.3) { try podNames() == ["web-0"] && !isTerminating("web-0") }
        XCTAssertEqual(try claimNames(), ["data-web-0", "data-web-1", "data-web-2"], "scaling down keeps the claims")
        try waitUntil("status of one replica") { try set().value(at: "status.replicas")?.intValue == 1 }
    }

    func testParallelCreatesEveryPodAtOnce() throws {
        startControllers()
        try createSet(replicas: 3, policy: "Parallel")
        try waitUntil("three pods before any is ready") { try podNames() == ["web-0", "web-1", "web-2"] }
        XCTAssertEqual(try claimNames(), ["data-web-0", "data-web-1", "data-web-2"])
        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": ["replicas": 1]])
        try waitUntil("scaled down without waiting") { try podNames() == ["web-0"] }
    }

    func testADeletedPodComesBackWithItsNameAndClaim() throws {
        startControllers()
        try createSet(replicas: 3, node: "n1")
        for name in ["web-0", "web-1", "web-2"] { try bringUp(name) }
        let before = try XCTUnwrap(try pod("web-1"))
        let claim = try client.get(.persistentVolumeClaims, name: "data-web-1")

        try client.delete(.pods, name: "web-1")
        try waitUntil("web-1 terminating") { try isTerminating("web-1") }
        try client.delete(.pods, name: "web-1", gracePeriodSeconds: 0)
        let again = try eventually("web-1 made again") { () -> JSONValue? in
            guard let live = try pod("web-1"), live.uid != before.uid else { return nil }
            return live
        }
        let volume = again.value(at: "spec.volumes")?.arrayValue?.first { $0["name"] == "data" }
        XCTAssertEqual(volume?.value(at: "persistentVolumeClaim.claimName"), "data-web-1")
        XCTAssertEqual(try client.get(.persistentVolumeClaims, name: "data-web-1").uid, claim.uid, "the same claim, not a new one")
        XCTAssertEqual(try claimNames(), ["data-web-0", "data-web-1", "data-web-2"])
        XCTAssertEqual(try podNames(), ["web-0", "web-1", "web-2"])
    }

    func testScaleDownKeepsClaimsAndScaleUpReusesThem() throws {
        startControllers()
        try createSet(replicas: 3)
        for name in ["web-0", "web-1", "web-2"] { try bringUp(name) }
        let claims = try Dictionary(uniqueKeysWithValues: list(.persistentVolumeClaims).map { ($0.name ?? "", $0.uid ?? "") })
        XCTAssertEqual(claims.keys.sorted(), ["data-web-0", "data-web-1", "data-web-2"])

        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": ["replicas": 1]])
        try waitUntil("one pod") { try podNames() == ["web-0"] }
        try stays("the claims stay", for: 0.3) { try claimNames() == ["data-web-0", "data-web-1", "data-web-2"] }

        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": ["replicas": 3]])
        try bringUp("web-1")
        try bringUp("web-2")
        let reused = try Dictionary(uniqueKeysWithValues: list(.persistentVolumeClaims).map { ($0.name ?? "", $0.uid ?? "") })
        XCTAssertEqual(reused, claims, "the pods came back to the claims they had")
    }

    func testRollingUpdateFromTheTopDownStopsAtThePartition() throws {
        startControllers()
        try createSet(replicas: 3)
        for name in ["web-0", "web-1", "web-2"] { try bringUp(name) }
        let oldRevision = try eventually("the first revision") { () -> String? in
            let object = try set()
            guard object.value(at: "status.readyReplicas")?.intValue == 3 else { return nil }
            return object.value(at: "status.currentRevision")?.stringValue
        }

        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": [
            "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["partition": 1]],
            "template": ["spec": ["containers": [Self.container(image: "registry.local/app:2")]]],
        ]])
        let newRevision = try eventually("a new update revision") { () -> String? in
            let revision = try set().value(at: "status.updateRevision")?.stringValue
            guard let revision, revision != oldRevision else { return nil }
            return revision
        }
        let web2 = try eventually("web-2 at the new revision") { () -> JSONValue? in
            guard let live = try pod("web-2"), revision(live) == newRevision else { return nil }
            return live
        }
        XCTAssertEqual(web2.value(at: "spec.containers")?.arrayValue?.first?["image"], "registry.local/app:2")
        try stays("web-1 waits for web-2 to be ready", for: 0.3) { try revision(pod("web-1")) == oldRevision }
        try markRunning(web2)
        let web1 = try eventually("web-1 at the new revision") { () -> JSONValue? in
            guard let live = try pod("web-1"), revision(live) == newRevision else { return nil }
            return live
        }
        try markRunning(web1)
        try waitUntil("two updated replicas") { try set().value(at: "status.updatedReplicas")?.intValue == 2 }
        try stays("web-0 is below the partition", for: 0.3) { try revision(pod("web-0")) == oldRevision }
        let partial = try set()
        XCTAssertEqual(partial.value(at: "status.currentRevision")?.stringValue, oldRevision)
        XCTAssertEqual(partial.value(at: "status.currentReplicas"), 1)

        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": ["updateStrategy": ["rollingUpdate": ["partition": 0]]]])
        try markRunning(try eventually("web-0 at the new revision") { () -> JSONValue? in
            guard let live = try pod("web-0"), revision(live) == newRevision else { return nil }
            return live
        })
        try waitUntil("the rollout complete") {
            let object = try set()
            return object.value(at: "status.currentRevision")?.stringValue == newRevision
                && object.value(at: "status.currentReplicas")?.intValue == 3
        }
    }

    func testOnDeleteLeavesPodsUntilTheyAreDeleted() throws {
        startControllers()
        try createSet(replicas: 2, policy: "Parallel")
        try bringUp("web-0")
        try bringUp("web-1")
        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": [
            "updateStrategy": ["type": "OnDelete", "rollingUpdate": nil],
            "template": ["spec": ["containers": [Self.container(image: "registry.local/app:2")]]],
        ]])
        try waitUntil("the new revision seen") { try set().value(at: "status.updatedReplicas")?.intValue == 0 }
        let old = try XCTUnwrap(try pod("web-1"))
        try stays("nothing replaced", for: 0.3) { try pod("web-1")?.uid == old.uid }
        try client.delete(.pods, name: "web-1")
        try waitUntil("web-1 made from the new template") {
            try pod("web-1")?.value(at: "spec.containers")?.arrayValue?.first?["image"] == "registry.local/app:2"
        }
        XCTAssertEqual(try pod("web-0")?.value(at: "spec.containers")?.arrayValue?.first?["image"], "registry.local/app:1")
    }

    func testDefaultsAndWhatAnUpdateMayChange() throws {
        try createSet(replicas: 2)
        let stored = try set()
        XCTAssertEqual(stored.value(at: "spec.updateStrategy.rollingUpdate.partition"), 0)
        XCTAssertEqual(stored.value(at: "spec.revisionHistoryLimit"), 10)
        XCTAssertEqual(stored.value(at: "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"), "Retain")
        XCTAssertEqual(stored.value(at: "spec.persistentVolumeClaimRetentionPolicy.whenScaled"), "Retain")
        XCTAssertEqual(stored.value(at: "spec.template.spec.restartPolicy"), "Always")
        XCTAssertEqual(stored.value(at: "spec.volumeClaimTemplates")?.arrayValue?.first?.value(at: "spec.volumeMode"), "Filesystem")

        _ = try client.mergePatch(.statefulSets, name: "web", ["spec": ["replicas": 4, "minReadySeconds": 5]])
        XCTAssertThrowsError(try client.mergePatch(.statefulSets, name: "web", ["spec": ["serviceName": "other"]])) { error in
            XCTAssertEqual((error as? KubeError)?.code, 422)
            XCTAssertTrue("\(error)".contains("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'"), "\(error)")
        }
        XCTAssertThrowsError(try client.create(.statefulSets, [
            "metadata": ["name": "bad"],
            "spec": ["selector": ["matchLabels": ["app": "bad"]],
                     "template": ["metadata": ["labels": ["app": "bad"]],
                                  "spec": ["restartPolicy": "Never", "containers": [Self.container()]]]],
        ])) { error in XCTAssertTrue("\(error)".contains("supported values: \"Always\""), "\(error)") }
    }
}
