@testable import FairControllers
import FairKube
import Foundation
import XCTest

/// The pure parts of the controllers, without a server.
final class ControllerLogicTests: XCTestCase {
    private func pod(_ uid: String, phase: String = "Running", terminating: Bool = false, ready: Bool = false,
                     node: String? = nil, created: String = "2024-01-01T00:00:00Z") -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string("p-\(uid)"), "uid": .string(uid), "creationTimestamp": .string(created)],
                              "status": ["phase": .string(phase)]]
        if terminating { pod.set("2024-01-01T00:01:00Z", at: "metadata.deletionTimestamp") }
        if ready { pod.set([["type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:30Z"]], at: "status.conditions") }
        if let node { pod.set(.string(node), at: "spec.nodeName") }
        return pod
    }

    func testJobCountsEachFinishedPodOnce() {
        let pods = [pod("a", phase: "Succeeded"), pod("b", phase: "Failed"), pod("c"), pod("d", terminating: true)]
        let first = JobPodCounting(status: nil, pods: pods, gone: [:], excused: [])
        XCTAssertEqual(first.succeeded, 1)
        XCTAssertEqual(first.failed, 2, "a pod deleted before it succeeded is a failure")
        XCTAssertEqual(first.counted, ["a", "b", "d"])

        let written: JSONValue = ["succeeded": .int(first.succeeded), "failed": .int(first.failed),
                                  "countedPods": .array(first.counted.map { .string($0) })]
        let again = JobPodCounting(status: written, pods: pods, gone: [:], excused: [])
        XCTAssertEqual(again.succeeded, 1)
        XCTAssertEqual(again.failed, 2)
        XCTAssertEqual(again.newlyFailed + again.newlySucceeded, 0)

        // "b" and "d" are deleted; "c" was deleted while running, before anyone counted it.
        let remaining = [pod("a", phase: "Succeeded")]
        let after = JobPodCounting(status: written, pods: remaining,
                                   gone: ["b": .failed, "d": .failed, "c": .failed], excused: [])
        XCTAssertEqual(after.failed, 3)
        XCTAssertEqual(after.newlyFailed, 1)
        XCTAssertEqual(after.counted, ["a"])
    }

    func testJobDoesNotCountPodsItDeletedOnPurpose() {
        let counts = JobPodCounting(status: nil, pods: [pod("x", terminating: true), pod("y", phase: "Failed")],
                                    gone: ["z": .failed], excused: ["x", "y", "z"])
        XCTAssertEqual(counts.failed, 0)
        XCTAssertEqual(counts.counted, [])
    }

    func testJobBackoffDoublesAndResetsOnSuccess() {
        let start = Date(timeIntervalSince1970: 1000)
        var backoff = JobMemory.Backoff()
        XCTAssertEqual(backoff.remaining(base: 10, maximum: 360, now: start), 0)
        backoff.record(failed: 1, succeeded: 0, at: start)
        XCTAssertEqual(backoff.remaining(base: 10, maximum: 360, now: start), 10)
        backoff.record(failed: 2, succeeded: 0, at: start)
        XCTAssertEqual(backoff.remaining(base: 10, maximum: 360, now: start.addingTimeInterval(5)), 35)
        XCTAssertEqual(backoff.remaining(base: 100, maximum: 360, now: start), 360)
        backoff.record(failed: 0, succeeded: 1, at: start)
        XCTAssertEqual(backoff.remaining(base: 10, maximum: 360, now: start), 0)
    }

    func testPodsCheapestToLoseGoFirst() {
        let sorted = PodDeletionOrder.sorted([
            pod("ready-old", ready: true, node: "n", created: "2024-01-01T00:00:00Z"),
            pod("ready-new", ready: true, node: "n", created: "2024-01-01T00:05:00Z"),
            pod("not-ready", node: "n"),
            pod("pending", phase: "Pending", node: "n"),
            pod("unscheduled", phase: "Pending"),
        ], now: Date())
        XCTAssertEqual(sorted.compactMap(\.uid), ["unscheduled", "pending", "not-ready", "ready-new", "ready-old"])
    }

    func testRollingUpdateBoundsResolveLikeKubernetes() throws {
        func spec(_ replicas: Int64, surge: JSONValue?, unavailable: JSONValue?) throws -> EffectiveDeploymentSpec {
            var rolling: JSONValue = [:]
            if let surge { rolling["maxSurge"] = surge }
            if let unavailable { rolling["maxUnavailable"] = unavailable }
            return try EffectiveDeploymentSpec(["spec": ["replicas": .int(replicas), "strategy": ["type": "RollingUpdate", "rollingUpdate": rolling]]])
        }
        let defaults = try spec(10, surge: nil, unavailable: nil)
        XCTAssertEqual(defaults.maxSurge, 3, "25% of 10 rounds up")
        XCTAssertEqual(defaults.maxUnavailable, 2, "25% of 10 rounds down")
        let zero = try spec(3, surge: 0, unavailable: "0%")
        XCTAssertEqual(zero.maxUnavailable, 1, "a rollout must be able to move")
        XCTAssertThrowsError(try spec(3, surge: "lots", unavailable: nil)) { error in
            XCTAssertTrue("\(error)".contains("spec.strategy.rollingUpdate.maxSurge"), "\(error)")
            XCTAssertTrue("\(error)".contains("lots"), "\(error)")
        }
        let recreate = try EffectiveDeploymentSpec(["spec": ["replicas": 2, "strategy": ["type": "Recreate"]]])
        XCTAssertEqual(recreate.maxSurge, 0)
        XCTAssertEqual(recreate.maxUnavailable, 0)
    }

    func testTemplateHashIgnoresItsOwnLabelAndChangesWithTheTemplate() {
        let template: JSONValue = ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "a:1"]]]]
        var labelled = template
        labelled.set("abc", at: "metadata.labels.pod-template-hash")
        var changed = template
        changed.set([["name": "c", "image": "a:2"]], at: "spec.containers")
        let hash = TemplateHash.compute(template, collisionCount: nil)
        XCTAssertEqual(hash, TemplateHash.compute(labelled, collisionCount: nil))
        XCTAssertNotEqual(hash, TemplateHash.compute(changed, collisionCount: nil))
        XCTAssertNotEqual(hash, TemplateHash.compute(template, collisionCount: 1))
        XCTAssertTrue(TemplateHash.equalIgnoringHash(template, labelled))
        XCTAssertTrue(hash.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
    }

    func testEndpointPortsResolveNamedTargetPortsPerPod() {
        let service: JSONValue = ["spec": ["selector": ["app": "m"], "ports": [["name": "web", "port": 80, "targetPort": "http"]]]]
        func serving(_ name: String, ip: String, port: Int64, ready: Bool) -> JSONValue {
            var pod = pod(name, ready: ready)
            pod.set(.string(ip), at: "status.podIP")
            pod.set([["name": "main", "image": "x:1", "ports": [["name": "http", "containerPort": .int(port)]]]], at: "spec.containers")
            return pod
        }
        var unnamed = serving("other", ip: "10.0.0.9", port: 1, ready: true)
        unnamed.set([["name": "main", "image": "x:1"]], at: "spec.containers")
        let subsets = EndpointSubsets.build(service: service, pods: [
            serving("a", ip: "10.0.0.2", port: 8080, ready: true), serving("b", ip: "10.0.0.1", port: 8080, ready: true),
            serving("c", ip: "10.0.0.3", port: 9090, ready: false), unnamed,
        ])
        XCTAssertEqual(subsets.count, 2)
        let on8080 = subsets.first { $0["ports"] == [["name": "web", "port": 8080, "protocol": "TCP"]] }
        XCTAssertEqual(on8080?["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue }, ["10.0.0.1", "10.0.0.2"])
        let on9090 = subsets.first { $0["ports"] == [["name": "web", "port": 9090, "protocol": "TCP"]] }
        XCTAssertEqual(on9090?["notReadyAddresses"]?.arrayValue?.count, 1)
        XCTAssertNil(on9090?["addresses"])
    }
}
