import FairKube
import Foundation
import XCTest

final class ObjectViewTests: XCTestCase {
    private let stored = """
    {"apiVersion":"v1","kind":"Pod",
     "metadata":{"name":"p","namespace":"ml","uid":"u1","labels":{"app":"train"},
                 "annotations":{"example.com/a.b":"dotted key"},
                 "ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"j","uid":"ju","controller":true,"x-future":1}],
                 "deletionTimestamp":"2026-01-02T03:04:05Z"},
     "spec":{"nodeName":"","schedulerName":"default-scheduler","containers":[{"name":"main","image":"img:1",
             "resources":{"requests":{"cpu":"500m"},"limits":{"memory":"1Gi"}},"futureField":{"x":[1,2]}}],
             "tolerations":[{"key":"gpu","operator":"Exists"}]},
     "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-02T03:00:00Z"}]}}
    """

    func testReadsTypedFieldsFromTheStoredDocument() throws {
        let pod = Pod(json: try JSONCoding.decode(Data(stored.utf8)))
        XCTAssertEqual(pod.metadata.name, "p")
        XCTAssertEqual(pod.metadata.labels, ["app": "train"])
        XCTAssertEqual(pod.metadata.annotations["example.com/a.b"], "dotted key", "a dotted key is a key, not a path")
        XCTAssertEqual(pod.metadata.controller?.kind, "Job")
        XCTAssertEqual(pod.metadata.controller?.uid, "ju")
        XCTAssertTrue(pod.metadata.isTerminating)
        XCTAssertEqual(pod.metadata.deletionTimestamp, KubeTime.parse("2026-01-02T03:04:05Z"))
        XCTAssertNil(pod.spec.nodeName, "an empty nodeName is not bound")
        XCTAssertEqual(pod.spec.containers.first?.image, "img:1")
        XCTAssertEqual(pod.spec.containers.first?.resources.requests["cpu"], "500m")
        XCTAssertEqual(pod.spec.tolerations.first?.operator, "Exists")
        XCTAssertEqual(pod.status.phase, "Running")
        XCTAssertEqual(pod.status.conditions["Ready"]?.isTrue, true)
        XCTAssertNil(pod.status.conditions["PodScheduled"])
    }

    func testWritesChangeOnlyTheirFieldAndKeepUnknownOnes() throws {
        let original: JSONValue = try JSONCoding.decode(Data(stored.utf8))
        var pod = Pod(json: original)
        pod.spec.nodeName = "n1"
        pod.metadata.labels["tier"] = "gpu"
        pod.status.conditions.append({ var c = Condition(); c.type = "PodScheduled"; c.status = "True"; return c }())
        pod.metadata.ownerReferences[0].blockOwnerDeletion = true
        pod.spec.schedulerName = nil

        XCTAssertEqual(pod.json.value(at: "spec.nodeName"), "n1")
        XCTAssertNil(pod.json.value(at: "spec.schedulerName"), "nil removes the field")
        XCTAssertEqual(pod.json.value(at: "metadata.labels")?["tier"], "gpu")
        XCTAssertEqual(pod.json.value(at: "status.conditions")?.arrayValue?.count, 2)
        // Fields no view names come through untouched.
        XCTAssertEqual(pod.json.value(at: "spec.containers")?.arrayValue?.first?["futureField"], original.value(at: "spec.containers")?.arrayValue?.first?["futureField"])
        XCTAssertEqual(pod.json.value(at: "metadata.ownerReferences")?.arrayValue?.first?["x-future"], 1)
        XCTAssertEqual(pod.json.value(at: "metadata.ownerReferences")?.arrayValue?.first?["blockOwnerDeletion"], true)
        XCTAssertEqual(pod.json["apiVersion"], "v1")
    }

    func testJobSpecAndAbsentParts() {
        var job = Job(json: ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "j"],
                             "spec": ["completions": .null, "template": ["spec": ["restartPolicy": "OnFailure"]]]])
        XCTAssertEqual(job.spec.completions, .null, "null (a work queue) is told apart from absent")
        XCTAssertNil(job.spec.parallelism)
        XCTAssertEqual(job.spec.template.spec.restartPolicy, "OnFailure")
        XCTAssertNil(job.status.startTime, "an absent status reads as empty")
        job.status.startTime = KubeTime.parse("2026-01-01T00:00:00Z")
        XCTAssertEqual(job.json.value(at: "status.startTime"), "2026-01-01T00:00:00Z")
        var node = Node()
        node.spec.taints = [Taint(json: ["key": "k", "effect": "NoSchedule"])]
        XCTAssertEqual(node.json.value(at: "spec.taints")?.arrayValue?.count, 1)
    }
}
