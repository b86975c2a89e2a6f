import XCTest
@testable import FairRegistry

final class RegistryReferenceTests: XCTestCase {
    func testDockerStyleParsing() throws {
        XCTAssertEqual(try RegistryReference(parsing: "python:3.11"),
                       RegistryReference(host: "docker.io", repository: "library/python", tag: "3.11"))
        XCTAssertEqual(try RegistryReference(parsing: "team/model"), RegistryReference(host: "docker.io", repository: "team/model"))
        XCTAssertEqual(try RegistryReference(parsing: "localhost/a"), RegistryReference(host: "localhost", repository: "a"))
        XCTAssertEqual(try RegistryReference(parsing: "127.0.0.1:5000/team/app:v1"),
                       RegistryReference(host: "127.0.0.1:5000", repository: "team/app", tag: "v1"))
        let digest = "sha256:" + String(repeating: "b", count: 64)
        let pinned = try RegistryReference(parsing: "docker://ghcr.io/org/app:v2@\(digest)")
        XCTAssertEqual(pinned.host, "ghcr.io")
        XCTAssertEqual(pinned.manifestReference, digest)
        XCTAssertEqual(pinned.description, "ghcr.io/org/app:v2@\(digest)")
        XCTAssertEqual(try RegistryReference(parsing: "r.example/app").manifestReference, "latest")
        XCTAssertEqual(try RegistryReference(parsing: "python").apiHost, "registry-1.docker.io")
    }

    func testInvalidReferencesSayWhy() {
        for (text, fragment) in [("", "empty"), ("Team/App", "invalid repository"), ("r.example/app:-x", "invalid tag"),
                                 ("r.example/app@sha256:abc", "digest"), ("r.example//app", "invalid repository")] {
            XCTAssertThrowsError(try RegistryReference(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
    }

    func testPlainHTTPOnlyForLoopbackAndNamedHosts() {
        XCTAssertEqual(RegistryEndpoint(host: "127.0.0.1:5000", insecureHosts: []).scheme, "http")
        XCTAssertEqual(RegistryEndpoint(host: "localhost:5000", insecureHosts: []).scheme, "http")
        XCTAssertEqual(RegistryEndpoint(host: "[::1]:5000", insecureHosts: []).scheme, "http")
        XCTAssertEqual(RegistryEndpoint(host: "registry.lan:5000", insecureHosts: []).scheme, "https")
        XCTAssertEqual(RegistryEndpoint(host: "registry.lan:5000", insecureHosts: ["registry.lan:5000"]).scheme, "http")
        XCTAssertEqual(RegistryEndpoint.insecureHostsFromEnvironment(["FAIR_INSECURE_REGISTRIES": "a:1, b"]), ["a:1", "b"])
    }
}
