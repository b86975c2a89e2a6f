import Foundation
import XCTest
@testable import FairBuild

/// Files fair.yaml names stay inside the project; files read whole are size-checked first.
final class ProjectBoundaryTests: XCTestCase {
    private var root: URL!
    private var project: String { root.appendingPathComponent("project").path }

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fair-boundary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: project + "/sub", withIntermediateDirectories: true)
        try Data("secret\n".utf8).write(to: root.appendingPathComponent("outside.txt"))
        try Data("print(1)\n".utf8).write(to: URL(fileURLWithPath: project + "/sub/train.py"))
        try FileManager.default.createSymbolicLink(atPath: project + "/escape.py", withDestinationPath: "../outside.txt")
        try FileManager.default.createSymbolicLink(atPath: project + "/inside.py", withDestinationPath: "sub/train.py")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func refusal(_ path: String, field: String = "entrypoint") -> String {
        do {
            _ = try ProjectPath.resolve(path, in: project, field: field)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testPathsLeavingTheProjectAreRefused() {
        XCTAssertTrue(refusal("escape.py").hasPrefix("entrypoint: escape.py is outside the project directory"), refusal("escape.py"))
        XCTAssertTrue(refusal("escape.py").contains("outside.txt"))
        XCTAssertTrue(refusal("../outside.txt", field: "requirements").hasPrefix("requirements: ../outside.txt is outside"))
        XCTAssertTrue(refusal("/etc/hostname", field: "requirements").hasPrefix("requirements: /etc/hostname is outside"))
    }

    func testPathsInsideTheProjectResolve() throws {
        let real = ProjectPath.realPath(project)!
        XCTAssertEqual(try ProjectPath.resolve("inside.py", in: project, field: "entrypoint"), real + "/sub/train.py")
        XCTAssertEqual(try ProjectPath.resolve("./sub/../sub/train.py", in: project, field: "entrypoint"), real + "/sub/train.py")
        XCTAssertEqual(try ProjectPath.resolve("missing.py", in: project, field: "entrypoint"), real + "/missing.py")
    }

    func testRequirementsIndexOptionsAreReported() throws {
        let path = project + "/requirements.txt"
        try Data("""
            # comment --index-url ignored
            --index-url https://user:token@pypi.example.com/simple
            --extra-index-url=https://extra.example.com/simple
            -i https://other.example.com/simple
            --trusted-host example.com
            numpy==1.26.4  # pinned
            torch \\
              --extra-index-url https://download.pytorch.org/whl/cpu
            """.utf8).write(to: URL(fileURLWithPath: path))
        let warnings = try RequirementsReview.review(path: path, name: "requirements.txt", project: project)
        XCTAssertEqual(warnings.count, 5, "\(warnings)")
        XCTAssertTrue(warnings[0].hasPrefix("requirements.txt line 2 sets --index-url https://***@pypi.example.com/simple: "), warnings[0])
        XCTAssertFalse(warnings.joined().contains("token"))
        XCTAssertTrue(warnings[1].hasPrefix("requirements.txt line 3 sets --extra-index-url https://extra.example.com/simple"), warnings[1])
        XCTAssertTrue(warnings[2].hasPrefix("requirements.txt line 4 sets -i "), warnings[2])
        XCTAssertTrue(warnings[3].hasPrefix("requirements.txt line 5 sets --trusted-host example.com"), warnings[3])
        XCTAssertTrue(warnings[4].hasPrefix("requirements.txt line 7 sets --extra-index-url https://download.pytorch.org"), warnings[4])

        try Data("numpy\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try RequirementsReview.review(path: path, name: "requirements.txt", project: project), [])
    }

    func testRequirementsIncludingAFileOutsideAreRefused() throws {
        let path = project + "/requirements.txt"
        try Data("-r ../outside.txt\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try RequirementsReview.review(path: path, name: "requirements.txt", project: project)) { error in
            XCTAssertTrue("\(error)".contains("-r on requirements.txt line 1"), "\(error)")
        }
    }

    func testOversizedFairYAMLIsRefusedBeforeReading() throws {
        let file = project + "/fair.yaml"
        var text = "entrypoint: train.py\n# "
        text += String(repeating: "x", count: Int(FileSizeLimit.projectConfig))
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try ProjectConfig.load(file: file, projectDirectory: project)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(file) is 1.0 MiB; fair reads a fair.yaml of at most 1 MiB"), "\(error)")
        }
    }
}
