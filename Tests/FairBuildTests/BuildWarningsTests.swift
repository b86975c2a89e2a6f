import Foundation
import XCTest
@testable import FairBuild

/// Whole builds (scratch base, no network): what the build reports and what it refuses.
final class BuildWarningsTests: XCTestCase {
    private var root: URL!
    private var project: String { root.appendingPathComponent("project").path }

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fair-build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.appendingPathComponent("home").path, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func write(_ relative: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(project)/\(relative)"))
    }

    private func build() throws -> BuildResult {
        var options = BuildOptions(projectDirectory: project)
        options.base = "scratch"
        options.outputArchive = root.appendingPathComponent("image.tar").path
        options.workers = 1
        let home = FairHome(environment: ["FAIR_HOME": root.appendingPathComponent("home").path])
        return try ImageBuilder(options: options, home: home).build()
    }

    private func notebookJSON(_ sources: [[String]]) throws -> String {
        let cells: [[String: Any]] = sources.map { ["cell_type": "code", "metadata": [:] as [String: Any], "outputs": [] as [Any], "source": $0] }
        let data = try JSONSerialization.data(withJSONObject: ["cells": cells, "metadata": [:] as [String: Any], "nbformat": 4, "nbformat_minor": 5] as [String: Any])
        return String(decoding: data, as: UTF8.self)
    }

    func testNotebookChangesAndIndexOptionsAreBuildWarnings() throws {
        try write("fair.yaml", "entrypoint: nb.ipynb\n")
        try write("nb.ipynb", try notebookJSON([["import os\n", "%pip install torch\n"], ["%%time\n", "x = 1"]]))
        let result = try build()
        XCTAssertTrue(result.warnings.contains { $0.hasPrefix("nb.ipynb: cell 1, line 2: `%pip install torch` is not run") && $0.contains("requirements.txt") },
                      "\(result.warnings)")
        XCTAssertTrue(result.warnings.contains { $0.hasPrefix("nb.ipynb: cell 2, line 1: `%%time`") }, "\(result.warnings)")
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        XCTAssertTrue(json.contains("\"warnings\":[\"nb.ipynb: cell 1, line 2"), json)
    }

    func testNotebookWithASyntaxErrorFailsNamingTheCell() throws {
        guard NotebookSyntaxCheck.hostPython() != nil else { throw XCTSkip("no python3 on PATH") }
        try write("fair.yaml", "entrypoint: nb.ipynb\n")
        try write("nb.ipynb", try notebookJSON([["x = 1"], ["\n", "def f(:\n", "    pass"]]))
        XCTAssertThrowsError(try build()) { error in
            XCTAssertTrue("\(error)".hasPrefix("nb.ipynb: cell 2: SyntaxError: "), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("(line 2)"), "\(error)")
        }
    }

    func testEntrypointSymlinkOutOfTheProjectIsRefused() throws {
        try Data("print('outside')\n".utf8).write(to: root.appendingPathComponent("outside.ipynb"))
        try FileManager.default.createSymbolicLink(atPath: project + "/train.ipynb", withDestinationPath: "../outside.ipynb")
        try write("fair.yaml", "entrypoint: train.ipynb\n")
        XCTAssertThrowsError(try build()) { error in
            XCTAssertTrue("\(error)".hasPrefix("entrypoint: train.ipynb is outside the project directory"), "\(error)")
        }
    }

    func testRequirementsOutsideTheProjectAreRefused() throws {
        try Data("numpy\n".utf8).write(to: root.appendingPathComponent("reqs.txt"))
        try write("train.py", "print(1)\n")
        try write("fair.yaml", "entrypoint: train.py\nrequirements: ../reqs.txt\n")
        XCTAssertThrowsError(try build()) { error in
            XCTAssertTrue("\(error)".hasPrefix("requirements: ../reqs.txt is outside the project directory"), "\(error)")
        }
    }
}
