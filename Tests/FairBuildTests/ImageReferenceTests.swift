import FairRegistry
import XCTest
@testable import FairBuild

final class ImageReferenceTests: XCTestCase {
    func testParsing() throws {
        XCTAssertEqual(try ImageReference.parse("scratch", relativeTo: "/p"), .scratch)
        XCTAssertEqual(try ImageReference.parse("oci-archive:base.tar", relativeTo: "/p"), .archive(path: "/p/base.tar", tag: nil))
        XCTAssertEqual(try ImageReference.parse("oci-archive:../b.tar:v1", relativeTo: "/p/q"), .archive(path: "/p/b.tar", tag: "v1"))
        XCTAssertEqual(try ImageReference.parse("oci:/l:name:tag", relativeTo: "/p"), .layout(directory: "/l", tag: "name:tag"))
        XCTAssertEqual(try ImageReference.parse("python:3.11", relativeTo: "/p"),
                       .registry(RegistryReference(host: "docker.io", repository: "library/python", tag: "3.11")))
        XCTAssertEqual(try ImageReference.parse("docker://127.0.0.1:5000/team/base@sha256:" + String(repeating: "a", count: 64), relativeTo: "/p"),
                       .registry(RegistryReference(host: "127.0.0.1:5000", repository: "team/base", digest: "sha256:" + String(repeating: "a", count: 64))))
        XCTAssertThrowsError(try ImageReference.parse("Bad Ref!", relativeTo: "/p")) { error in
            XCTAssertTrue("\(error)".contains("oci-archive:PATH"))
        }
    }

    func testTags() throws {
        XCTAssertEqual(try ImageTag(parsing: "demo").description, "demo:latest")
        XCTAssertEqual(try ImageTag(parsing: "team/demo:v1.2").description, "team/demo:v1.2")
        XCTAssertThrowsError(try ImageTag(parsing: "Demo:x"))
        XCTAssertThrowsError(try ImageTag(parsing: "demo:-x"))
        XCTAssertEqual(ImageTag.sanitisedName("My Project_2"), "my-project_2")
    }
}
