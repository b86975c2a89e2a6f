@testable import FairNode
import Foundation
import XCTest

final class RegistryMirrorsTests: XCTestCase {
    func testMirrorsComeFirstInOrderAndTheRegistryLast() throws {
        var mirrors = RegistryMirrors()
        try mirrors.add("docker.io=127.0.0.1:5000,http://mirror.lan:5000/")
        try mirrors.add("ghcr.io = https://ghcr-mirror.lan")
        XCTAssertEqual(mirrors.candidates(for: "docker.io"), ["127.0.0.1:5000", "mirror.lan:5000", "docker.io"])
        XCTAssertEqual(mirrors.candidates(for: "ghcr.io"), ["ghcr-mirror.lan", "ghcr.io"])
        XCTAssertEqual(mirrors.candidates(for: "quay.io"), ["quay.io"])
        XCTAssertEqual(mirrors.plainHTTPHosts, ["mirror.lan:5000"])
    }

    func testAFileOfLinesWithCommentsAndErrorsNamingTheLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mirrors-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# mirrors\n\ndocker.io=127.0.0.1:5000  # local\nregistry.k8s.io=127.0.0.1:5001\n".write(toFile: path, atomically: true, encoding: .utf8)
        var mirrors = RegistryMirrors()
        try mirrors.add(file: path)
        XCTAssertEqual(mirrors.mirrors, ["docker.io": ["127.0.0.1:5000"], "registry.k8s.io": ["127.0.0.1:5001"]])
        try "docker.io=127.0.0.1:5000\nnonsense\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RegistryMirrors().adding(file: path)) { XCTAssertTrue("\($0)".contains("\(path):2:"), "\($0)") }
        XCTAssertThrowsError(try RegistryMirrors().adding("docker.io=host/path")) { XCTAssertTrue("\($0)".contains("not a mirror host")) }
        XCTAssertThrowsError(try RegistryMirrors().adding("docker.io/library=host")) { XCTAssertTrue("\($0)".contains("not a registry host")) }
    }
}

private extension RegistryMirrors {
    func adding(_ text: String) throws -> RegistryMirrors { var copy = self; try copy.add(text); return copy }
    func adding(file: String) throws -> RegistryMirrors { var copy = self; try copy.add(file: file); return copy }
}
