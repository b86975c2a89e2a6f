import Foundation
import XCTest
@testable import FairBuild

/// IPython magics keep the code they wrap, shell commands run, and every change is reported.
final class NotebookMagicsTests: XCTestCase {
    /// A notebook whose code cells have these sources (each a list of lines, as Jupyter writes them).
    private func notebook(_ cells: [[String]]) -> Data {
        let objects: [[String: Any]] = cells.map {
            ["cell_type": "code", "metadata": [:] as [String: Any], "outputs": [] as [Any], "execution_count": NSNull(), "source": $0]
        }
        let root: [String: Any] = ["cells": objects, "metadata": [:] as [String: Any], "nbformat": 4, "nbformat_minor": 5]
        return try! JSONSerialization.data(withJSONObject: root)
    }

    private func convert(_ cells: [[String]]) throws -> NotebookConversion {
        try NotebookConverter.conversion(of: notebook(cells), sourceName: "nb.ipynb")
    }

    private func warning(_ conversion: NotebookConversion, cell: Int, line: Int) -> NotebookWarning? {
        conversion.warnings.first { $0.cell == cell && $0.line == line }
    }

    /// Runs the script with the build machine's python3 in `directory`; skips without one.
    private func run(_ script: String, in directory: URL) throws -> String {
        guard let python = NotebookSyntaxCheck.hostPython() else { throw XCTSkip("no python3 on PATH") }
        let path = directory.appendingPathComponent("nb.py")
        try script.write(to: path, atomically: true, encoding: .utf8)
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-I", path.path]
        process.currentDirectoryURL = directory
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "script failed:\n\(text)\n--- script ---\n\(script)")
        return text
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fair-nb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testTimeCellKeepsItsBodyAndReportsIt() throws {
        let conversion = try convert([["%%time\n", "total = sum(range(10))\n"], ["print(total)"]])
        XCTAssertTrue(conversion.script.contains("\ntotal = sum(range(10))\n"), conversion.script)
        XCTAssertTrue(conversion.script.contains("Wall time"), conversion.script)
        XCTAssertEqual(warning(conversion, cell: 1, line: 1)?.source, "%%time")
    }

    func testTimeLineMagicKeepsTheAssignment() throws {
        let conversion = try convert([["def f():\n", "    return 2\n", "%time y = f()\n", "%timeit -n 3 -r1 z = f()\n", "print(y, z)"]])
        XCTAssertTrue(conversion.script.contains("\ny = f()\n"), conversion.script)
        XCTAssertTrue(conversion.script.contains("\nz = f()\n"), conversion.script)
        XCTAssertNotNil(warning(conversion, cell: 1, line: 3))
        XCTAssertTrue(warning(conversion, cell: 1, line: 4)?.message.contains("once") ?? false)
    }

    func testPipInstallIsNotRunAndNamesRequirements() throws {
        let conversion = try convert([["%pip install torch\n", "!pip install -q numpy\n", "pip install pandas\n", "!python -m pip install x\n"]])
        XCTAssertFalse(conversion.script.contains("subprocess"), conversion.script)
        XCTAssertEqual(conversion.warnings.map(\.line), [1, 2, 3, 4])
        for warning in conversion.warnings {
            XCTAssertTrue(warning.message.contains("requirements.txt"), warning.description)
        }
    }

    func testDisplayOnlyMagicsAreDroppedWithAWarning() throws {
        let conversion = try convert([["import os\n", "%matplotlib inline\n", "%load_ext autoreload"]])
        XCTAssertTrue(conversion.script.contains("# dropped: %matplotlib inline"), conversion.script)
        XCTAssertEqual(warning(conversion, cell: 1, line: 2)?.description,
                       "nb.ipynb: cell 1, line 2: `%matplotlib inline` is dropped: it only changes how IPython displays or behaves interactively")
        XCTAssertNotNil(warning(conversion, cell: 1, line: 3))
    }

    func testShimsAreDefinedOnlyWhenUsed() throws {
        let plain = try convert([["x = 1\n", "print(x)"]])
        XCTAssertFalse(plain.script.contains("def display"), plain.script)
        XCTAssertTrue(plain.warnings.isEmpty)

        let used = try convert([["x = 1"], ["display(x)\n", "shell = get_ipython()"]])
        XCTAssertTrue(used.script.contains("def display(*objs, **kwargs):"), used.script)
        XCTAssertTrue(used.script.contains("def get_ipython():"), used.script)
        XCTAssertNotNil(warning(used, cell: 2, line: 1))
        XCTAssertNotNil(warning(used, cell: 2, line: 2))

        let method = try convert([["df.display()"]])
        XCTAssertFalse(method.script.contains("def display"), method.script)
    }

    func testFutureImportsStayFirst() throws {
        let conversion = try convert([["from __future__ import annotations\n", "!echo hi"]])
        let lines = conversion.script.split(separator: "\n")
        let future = lines.firstIndex(of: "from __future__ import annotations")
        let prelude = lines.firstIndex { $0.hasPrefix("import subprocess") }
        XCTAssertNotNil(future)
        XCTAssertNotNil(prelude)
        XCTAssertLessThan(future ?? 0, prelude ?? 0, conversion.script)
    }

    func testEveryMagicInTheBodyOfACellMagicIsReportedWithItsLine() throws {
        let conversion = try convert([["%%capture\n", "import sys\n", "!echo quiet\n", "%matplotlib inline\n"]])
        XCTAssertEqual(conversion.warnings.map(\.line), [1, 3, 4])
        XCTAssertTrue(conversion.warnings.allSatisfy { $0.cell == 1 })
    }

    /// The cases a Jupyter user relies on, run with a real Python: each prints what Jupyter printed.
    func testConvertedScriptRunsLikeTheNotebook() throws {
        let directory = try temporaryDirectory()
        let conversion = try convert([
            ["%%time\n", "a = 40 + 2\n"],
            ["def double(n):\n", "    return 2 * n\n", "%time b = double(a)\n"],
            ["%%capture captured\n", "print('hidden')\n", "c = a + 1\n"],
            ["%%writefile notes.txt\n", "line one\n", "line \"two\"\\"],
            ["%%writefile -a notes.txt\n", "line three"],
            ["with open('notes.txt') as f:\n", "    notes = f.read().splitlines()\n"],
            ["%%bash\n", "echo from-bash $((6 * 7))\n"],
            ["!echo from-shell\n", "words = !echo one two\n"],
            ["%pip install nothing\n", "%matplotlib inline\n", "display(a)\n", "display('text')\n"],
            ["if True:\n", "    %env FAIR_NB_VAR=set\n", "import os\n",
             "print('a', a, 'b', b, 'c', c)\n", "print('captured', repr(captured.stdout))\n",
             "print('notes', notes)\n", "print('words', words)\n", "print('env', os.environ['FAIR_NB_VAR'])\n"],
        ])
        let output = try run(conversion.script, in: directory)
        let lines = output.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("Wall time: ") }, output)
        XCTAssertFalse(lines.contains("hidden"), output)
        XCTAssertTrue(lines.contains("from-bash 42"), output)
        XCTAssertTrue(lines.contains("from-shell"), output)
        XCTAssertTrue(lines.contains("42"), output)
        XCTAssertTrue(lines.contains("'text'"), output)
        XCTAssertTrue(lines.contains("a 42 b 84 c 43"), output)
        XCTAssertTrue(lines.contains("captured 'hidden\\n'"), output)
        XCTAssertTrue(lines.contains(#"notes ['line one', 'line "two"\\', 'line three']"#), output)
        XCTAssertTrue(lines.contains("words ['one two']"), output)
        XCTAssertTrue(lines.contains("env set"), output)
    }

    func testSyntaxErrorNamesTheCellAndItsLine() throws {
        let directory = try temporaryDirectory()
        guard NotebookSyntaxCheck.hostPython() != nil else { throw XCTSkip("no python3 on PATH") }
        let conversion = try convert([["x = 1"], ["%matplotlib inline\n", "y = = 2\n", "print(y)"]])
        XCTAssertThrowsError(try NotebookSyntaxCheck.check(conversion, sourceName: "nb.ipynb", targetPython: nil, scratch: directory.path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("nb.ipynb: cell 2: SyntaxError: "), text)
            XCTAssertTrue(text.hasSuffix("(line 2)"), text)
        }
        let valid = try convert([["%%capture\n", "if True:\n", "    x = 1\n"]])
        XCTAssertNoThrow(try NotebookSyntaxCheck.check(valid, sourceName: "nb.ipynb", targetPython: nil, scratch: directory.path))
        // A python3 older than the image's could refuse valid new syntax: no check then.
        XCTAssertNoThrow(try NotebookSyntaxCheck.check(conversion, sourceName: "nb.ipynb", targetPython: "99.0", scratch: directory.path))
        XCTAssertNoThrow(try NotebookSyntaxCheck.check(conversion, sourceName: "nb.ipynb", targetPython: nil, scratch: directory.path, python: nil))
    }
}
