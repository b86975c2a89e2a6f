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
