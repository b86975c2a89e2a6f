@testable import FairWorkloads
import Foundation
import XCTest

final class WorkloadMountTests: XCTestCase {
    func testLocalDataIsReadOnlyUnlessAskedAndClaimsAreWritableUnlessAsked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mount-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let local = try WorkloadMount(parsing: "./data:/data", workingDirectory: directory.path)
        XCTAssertEqual(local, WorkloadMount(source: .host(directory.appendingPathComponent("data").path), path: "/data", readOnly: true))
        XCTAssertFalse(try WorkloadMount(parsing: "data:/data/:rw", workingDirectory: directory.path).readOnly)
        XCTAssertEqual(try WorkloadMount(parsing: "data:/data/:rw", workingDirectory: directory.path).path, "/data")
        XCTAssertEqual(try WorkloadMount(parsing: "pvc:ckpt:/ckpt"), WorkloadMount(source: .claim("ckpt"), path: "/ckpt", readOnly: false))
        XCTAssertTrue(try WorkloadMount(parsing: "pvc:ckpt:/ckpt:ro").readOnly)
    }

    func testBadMountsNameWhatIsWrong() {
        for (text, message) in [("pvc::/x", "expected SOURCE:PATH"), ("pvc:a:b:/x", "expected SOURCE:PATH"), ("pvc:ckpt:x", "expected SOURCE:PATH"),
                                ("pvc:ckpt:/opt/fair/tools/x", "under /opt/fair/tools"), ("pvc:ckpt:/", "which the container needs"),
                                ("/nonexistent-\(UUID().uuidString):/data", "does not exist"), ("pvc:UPPER:/x", "not a valid claim name")] {
            XCTAssertThrowsError(try WorkloadMount(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
        let twice = [WorkloadMount(source: .claim("a"), path: "/d", readOnly: false), WorkloadMount(source: .claim("b"), path: "/d", readOnly: true)]
        XCTAssertThrowsError(try WorkloadMount.check(twice)) { XCTAssertTrue("\($0)".contains("/d is mounted twice")) }
    }
}
