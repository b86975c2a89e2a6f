import FairKube
@testable import FairWorkloads
import FairArchive
import XCTest

final class PodProblemTests: XCTestCase {
    func testUnschedulableIsReportedWithTheSchedulersMessage() throws {
        let pod: JSONValue = ["status": ["conditions": [
            ["type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/1 nodes are available: 1 Insufficient cpu."],
        ]]]
        XCTAssertEqual(PodProblem.detect(in: pod), PodProblem(reason: "Unschedulable", message: "0/1 nodes are available: 1 Insufficient cpu."))
    }

    func testAPodGroupWaitingForItsOtherPodsIsNoProblemButOneThatDoesNotFitIs() {
        func pod(_ message: String) -> JSONValue {
            ["metadata": ["labels": .object([PodGroupLabels.name: "train"])],
             "status": ["conditions": [["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message)]]]]
        }
        XCTAssertNil(PodProblem.detect(in: pod("pod group \"train\" has 2 of the 3 pods that must start together; waiting for the rest")))
        let misfit = "pod group \"train\": 3 pods must start together and only 1 fit: 0/1 nodes are available: 1 Insufficient cpu."
        XCTAssertEqual(PodProblem.detect(in: pod(misfit))?.message, misfit)
    }

    func testNoNodeAtAllIsAWaitWhileTheClusterMayStillBeRegisteringOne() {
        let created = Date(timeIntervalSince1970: 1_800_000_000)
        let pod: JSONValue = ["metadata": ["creationTimestamp": .string(KubeTime.format(created))],
                              "status": ["conditions": [["type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                         "message": "0/0 nodes are available: no nodes available to schedule pods."]]]]
        XCTAssertNil(PodProblem.detect(in: pod, now: created.addingTimeInterval(5)))
        XCTAssertEqual(PodProblem.detect(in: pod, now: created.addingTimeInterval(PodProblem.noNodesGrace + 1))?.reason, "Unschedulable")
    }

    func testImagePullErrorsOfInitContainersCount() throws {
        let pod: JSONValue = ["status": [
            "initContainerStatuses": [["name": "train", "image": "r/x@sha256:1",
                                       "state": ["waiting": ["reason": "ErrImagePull", "message": "manifest unknown"]]]],
            "containerStatuses": [["name": "model", "state": ["waiting": ["reason": "PodInitializing"]]]],
        ]]
        XCTAssertEqual(PodProblem.detect(in: pod)?.description, "ErrImagePull: container train: manifest unknown")
    }

    func testAPodThatIsMerelyStartingHasNoProblem() {
        let pod: JSONValue = ["status": [
            "conditions": [["type": "PodScheduled", "status": "True"]],
            "containerStatuses": [["name": "train", "state": ["waiting": ["reason": "ContainerCreating"]]]],
        ]]
        XCTAssertNil(PodProblem.detect(in: pod))
    }

    func testAResumedLogStreamSkipsWhatWasShown() throws {
        var shown: [UInt8] = []
        let sink = SkippingSink(skip: 5) { shown.append(contentsOf: $0) }
        try sink.write(Array("abc".utf8))
        try sink.write(Array("defgh".utf8))
        try sink.write(Array("ij".utf8))
        XCTAssertEqual(String(decoding: shown, as: UTF8.self), "fghij")
        XCTAssertEqual(sink.offset, 10)
    }
}
