import FairKube
import Foundation
import XCTest

final class ManifestTemplateTests: XCTestCase {
    private var templates: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Templates").path
    }

    func testJobTemplateRendersATypedJob() throws {
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        let values: [String: Any] = [
            "name": "linear-regression-7f3k2", "namespace": "default", "project": "linear-regression", "backoffLimit": 2,
            "image": "127.0.0.1:5000/linear@sha256:abc",
            "hasNodeSelector": true, "nodeSelector": [["key": "kubernetes.io/hostname", "value": "gpu-box"]],
            "env": [["name": "LEARNING_RATE", "value": "0.05"], ["name": "NOTE", "value": "a: b # not a comment\nline two"]],
            "requests": [["name": "cpu", "quantity": "500m"], ["name": "memory", "quantity": "1Gi"]],
            "limits": [["name": "nvidia.com/gpu", "quantity": "1"]],
        ]
        let documents = try template.render(values)
        XCTAssertEqual(documents.count, 1)
        let job = documents[0]
        XCTAssertEqual(job.kind, "Job")
        XCTAssertEqual(job.name, "linear-regression-7f3k2")
        XCTAssertEqual(job.value(at: "spec.backoffLimit"), .int(2))
        let pod = try XCTUnwrap(job.value(at: "spec.template.spec"))
        XCTAssertEqual(pod["nodeSelector"], ["kubernetes.io/hostname": "gpu-box"])
        let container = try XCTUnwrap(pod["containers"]?.arrayValue?.first)
        XCTAssertEqual(container["image"], "127.0.0.1:5000/linear@sha256:abc")
        XCTAssertEqual(container["env"]?.arrayValue?.map { $0["value"] }, ["/model", "0.05", "a: b # not a comment\nline two"])
        XCTAssertEqual(container.value(at: "resources.requests"), ["cpu": "500m", "memory": "1Gi"])
        XCTAssertEqual(container.value(at: "resources.limits"), ["nvidia.com/gpu": "1"])
    }

    func testWithoutOptionalSectionsTheJobHasNoEmptyFields() throws {
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        let job = try template.render(["name": "j", "namespace": "ns", "project": "p", "backoffLimit": 0, "image": "x:1",
                                       "hasNodeSelector": false, "env": [Any](), "requests": [Any](), "limits": [Any]()])[0]
        XCTAssertNil(job.value(at: "spec.template.spec.nodeSelector"))
        XCTAssertEqual(job.value(at: "spec.template.spec.containers")?.arrayValue?.first?["env"]?.arrayValue?.count, 1)
    }

    func testYAMLRoundTripAndErrors() throws {
        let documents = try YAMLDocuments.parse("a: 1\nb: \"1\"\nc: [true, null, 1.5]\n---\n---\nname: x\n")
        XCTAssertEqual(documents, [["a": 1, "b": "1", "c": [true, .null, .double(1.5)]], ["name": "x"]])
        XCTAssertEqual(try YAMLDocuments.parse(try YAMLDocuments.print(documents)), documents)
        XCTAssertThrowsError(try YAMLDocuments.parse("a: [1, 2\n", source: "job.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("job.yaml: not valid YAML"), "\(error)")
        }
    }
}
