import Foundation
import XCTest
@testable import FairBuild

/// What every build leaves out: tool caches and virtualenvs, unless .fairignore re-includes them.
final class ContextDefaultsTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fair-context-\(UUID().uuidString)")
        for directory in [".venv/lib/python3.11/site-packages", "env2/bin", "src", ".tox/py311", ".mypy_cache/3.11",
                          ".pytest_cache/v", ".ruff_cache/0.1", ".nox/s", "notes.venv"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        for file in [".venv/pyvenv.cfg", ".venv/lib/python3.11/site-packages/torch.py", "env2/pyvenv.cfg", "env2/bin/python",
                     "src/train.py", "src/.DS_Store", ".DS_Store", ".tox/py311/x", ".mypy_cache/3.11/y", ".pytest_cache/v/z",
                     ".ruff_cache/0.1/a", ".nox/s/b", "notes.venv/readme.txt"] {
            try Data("x".utf8).write(to: root.appendingPathComponent(file))
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func walk(fairignore: String = "") throws -> [String] {
        let rules = try IgnoreRules(contents: (DefaultIgnores.patterns + [fairignore]).joined(separator: "\n"))
        var walker = ContextWalker(root: root.path, rules: rules, skipsVirtualenvs: true)
        return try walker.walk().map(\.relativePath)
    }

    func testCachesAndVirtualenvsAreLeftOut() throws {
        XCTAssertEqual(try walk(), ["notes.venv", "notes.venv/readme.txt", "src", "src/train.py"])
    }

    func testFairignoreCanReincludeThem() throws {
        let paths = try walk(fairignore: "!env2\n!.tox\n!src/.DS_Store")
        XCTAssertTrue(paths.contains("env2/pyvenv.cfg"), "\(paths)")
        XCTAssertTrue(paths.contains("env2/bin/python"), "\(paths)")
        XCTAssertTrue(paths.contains(".tox/py311/x"), "\(paths)")
        XCTAssertTrue(paths.contains("src/.DS_Store"), "\(paths)")
        XCTAssertFalse(paths.contains { $0.hasPrefix(".venv") }, "\(paths)")
        XCTAssertFalse(paths.contains(".DS_Store"), "\(paths)")
    }

    func testAFileInsideAVirtualenvCanBeReincluded() throws {
        let paths = try walk(fairignore: "!.venv/pyvenv.cfg")
        XCTAssertTrue(paths.contains(".venv/pyvenv.cfg"), "\(paths)")
        XCTAssertFalse(paths.contains(".venv/lib/python3.11/site-packages/torch.py"), "\(paths)")
    }

    func testWalkersOfOtherTreesKeepVirtualenvs() throws {
        var walker = ContextWalker(root: root.path, rules: .none)
        XCTAssertTrue(try walker.walk().map(\.relativePath).contains(".venv/pyvenv.cfg"))
    }

    func testLargeCodeLayerNamesItsLargestEntries() {
        func file(_ path: String, _ size: Int64) -> LayerEntry {
            LayerEntry(path: path, content: .file(sourcePath: "/dev/null", size: size), mode: 0o644)
        }
        let small = [file("app/train.py", 1_000), LayerEntry(path: "app", content: .directory, mode: 0o755)]
        XCTAssertNil(CodeLayerSize.warning(for: small, workdir: "app"))

        let large = small + [
            file("app/data/a.csv", 60_000_000), file("app/data/b.csv", 30_000_000), file("app/model.bin", 20_000_000),
            file("app/c", 3_000), file("app/d", 2_000), file("app/e", 1_500),
        ]
        XCTAssertEqual(
            CodeLayerSize.warning(for: large, workdir: "app"),
            "the code layer holds 110 MB of files, more than 100 MB; largest: data/ (90 MB), model.bin (20 MB), c (3 kB), d (2 kB), e (1.5 kB). Leave data, checkpoints and outputs out with .fairignore")
    }
}
