import Foundation

/// Parses each converted cell with the build machine's `python3` (`ast.parse`, nothing is run),
/// so a notebook with a syntax error fails the build naming its cell instead of failing later in
/// a pod. fair must not need Python to build, so the check is skipped without a `python3` on
/// PATH, and when that Python is older than the image's (it would refuse syntax the image runs).
public enum NotebookSyntaxCheck {
    /// Throws `NotebookError` for the first cell that does not parse: "cell N: SyntaxError: … (line L)".
    /// - Parameters:
    ///   - targetPython: the image's Python as "3.11", when known.
    ///   - scratch: a directory for the check's input file.
    public static func check(_ conversion: NotebookConversion, sourceName: String, targetPython: String?,
                             scratch: String, python: String? = hostPython()) throws {
        guard let python, !conversion.cells.isEmpty else { return }
        let target = targetPython.map { $0.split(separator: ".").compactMap { Int($0) } } ?? []
        let input: [String: Any] = [
            "target": target,
            "cells": conversion.cells.map { [$0.number, $0.text] as [Any] },
        ]
        let inputPath = "\(scratch)/notebook-cells.json"
        try JSONSerialization.data(withJSONObject: input).write(to: URL(fileURLWithPath: inputPath))
        defer { try? FileManager.default.removeItem(atPath: inputPath) }

        let answer: String
        do {
            answer = try ToolRun(executable: python, arguments: ["-I", "-c", program, inputPath]).output()
        } catch {
            return  // A broken or foreign python3 is no reason to fail the build.
        }
        guard let data = answer.data(using: .utf8),
              let result = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let number = result["cell"] as? Int,
              let cell = conversion.cells.first(where: { $0.number == number }) else { return }
        let message = result["message"] as? String ?? "invalid syntax"
        var reason = "cell \(number): SyntaxError: \(message)"
        if let line = result["line"] as? Int, !cell.lines.isEmpty {
            let index = min(max(line, 1), cell.lines.count) - 1
            reason += " (line \(cell.lines[index].sourceLine))"
        }
        throw NotebookError(file: sourceName, reason: reason)
    }

    /// `python3` on PATH, if any.
    public static func hostPython() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private static let program = """
    import ast, json, sys
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    target = tuple(request["target"])
    if target and sys.version_info[:len(target)] < target:
        print("{}")
        sys.exit(0)
    for number, text in request["cells"]:
        try:
            ast.parse(text, filename="cell %d" % number)
        except SyntaxError as error:
            print(json.dumps({"cell": number, "line": error.lineno, "message": error.msg}))
            sys.exit(0)
    print("{}")
    """
}
