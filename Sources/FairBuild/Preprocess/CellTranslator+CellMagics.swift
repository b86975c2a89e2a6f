import Foundation

/// Cell magics: `%%time`, `%%timeit` and `%%capture` keep the cell's Python, `%%writefile` writes
/// the body to its file, `%%bash` and `%%sh` run the body through the shell; the rest is dropped.
extension CellTranslator {
    static let displayOnlyCellMagics: Set<String> = [
        "html", "HTML", "markdown", "javascript", "js", "latex", "svg", "SVG", "perl", "ruby",
    ]

    mutating func translateCellMagic(_ magicLine: String, at number: Int, body: [NumberedLine]) -> [ScriptLine] {
        let name = String(magicLine.dropFirst(2).prefix { !$0.isWhitespace })
        let arguments = magicLine.dropFirst(2 + name.count).trimmingCharacters(in: .whitespaces)
        func at(_ lines: [String]) -> [ScriptLine] { lines.map { ScriptLine($0, sourceLine: number) } }

        switch name {
        case "time", "timeit":
            let message = name == "time"
                ? "runs the cell as plain Python and prints its wall time"
                : "runs the cell once as plain Python and prints its wall time (%%timeit would repeat it)"
            warn(number, magicLine, message)
            // %%timeit's line is setup code, run before the timed body.
            let setup = name == "timeit" ? Self.droppingTimeitOptions(arguments) : arguments
            let translated = translateLines(body[...])
            let timer = timed([], label: "_fair_cell_started")
            return at(setup.isEmpty ? [] : [setup]) + at([timer[0]]) + translated + at([timer[1]])
        case "capture":
            return capture(arguments, magicLine: magicLine, at: number, body: body)
        case "writefile", "file":
            return writeFile(arguments, magicLine: magicLine, at: number, body: body)
        case "bash", "sh", "script":
            return shellCell(name: name, arguments: arguments, magicLine: magicLine, at: number, body: body)
        default:
            let reason = Self.displayOnlyCellMagics.contains(name)
                ? "only displays its content in the notebook"
                : "has no plain-Python equivalent"
            warn(number, magicLine, "drops the whole cell (\(body.count) line\(body.count == 1 ? "" : "s")): %%\(name) \(reason)")
            return at(["# dropped cell magic %%\(name)"])
        }
    }

    /// `%%capture [--no-stdout] [--no-stderr] [--no-display] [name]`: the body runs with its
    /// output redirected into strings; `name` gets an object with `.stdout`, `.stderr`, `.show()`.
    private mutating func capture(_ arguments: String, magicLine: String, at number: Int, body: [NumberedLine]) -> [ScriptLine] {
        let words = arguments.split(whereSeparator: \.isWhitespace).map(String.init)
        let captureStdout = !words.contains("--no-stdout")
        let captureStderr = !words.contains("--no-stderr")
        let variable = words.first { !$0.hasPrefix("-") }

        var managers: [String] = []
        if captureStdout { managers.append("_fair_contextlib.redirect_stdout(_fair_io.StringIO()) as _fair_captured_stdout") }
        if captureStderr { managers.append("_fair_contextlib.redirect_stderr(_fair_io.StringIO()) as _fair_captured_stderr") }
        if managers.isEmpty { managers.append("_fair_contextlib.nullcontext()") }
        need(.contextlib, .io)

        var message = "runs the cell with its Python output captured (output of shell commands is not)"
        if let variable { message += "; \(variable) gets .stdout, .stderr and .show()" }
        warn(number, magicLine, message)

        let translated = translateLines(body[...])
        var lines = [ScriptLine("with \(managers.joined(separator: ", ")):", sourceLine: number)]
        lines += Self.indented(translated)
        lines.append(ScriptLine("    pass", sourceLine: number))
        if let variable {
            need(.capturedOutput)
            let stdout = captureStdout ? "_fair_captured_stdout.getvalue()" : "\"\""
            let stderr = captureStderr ? "_fair_captured_stderr.getvalue()" : "\"\""
            lines.append(ScriptLine("\(variable) = _FairCapturedOutput(\(stdout), \(stderr))", sourceLine: number))
        }
        return lines
    }

    /// `%%writefile [-a] PATH`: the body, as written, goes to PATH when the script gets there.
    private mutating func writeFile(_ arguments: String, magicLine: String, at number: Int, body: [NumberedLine]) -> [ScriptLine] {
        var rest = arguments
        var append = false
        for flag in ["-a ", "--append "] where rest.hasPrefix(flag) {
            append = true
            rest = rest.dropFirst(flag.count).trimmingCharacters(in: .whitespaces)
        }
        let path = Self.unquoted(rest)
        guard !path.isEmpty else {
            warn(number, magicLine, "drops the whole cell: %%writefile needs a file name")
            return [ScriptLine("# dropped cell magic %%writefile (no file name)", sourceLine: number)]
        }
        warn(number, magicLine, append
             ? "appends the cell's text to \(path) when the script reaches it"
             : "writes the cell's text to \(path) when the script reaches it")

        var pathExpression = PythonLiteral.string(path)
        if path.hasPrefix("~") {
            need(.os)
            pathExpression = "_fair_os.path.expanduser(\(pathExpression))"
        }
        var lines = [
            ScriptLine("with open(\(pathExpression), \(append ? "\"a\"" : "\"w\""), encoding=\"utf-8\") as _fair_file:", sourceLine: number),
            ScriptLine("    _fair_file.write(", sourceLine: number),
        ]
        if body.isEmpty {
            lines.append(ScriptLine("        \"\"", sourceLine: number))
        } else {
            for (line, literal) in zip(body, PythonLiteral.lines(body.map(\.text))) {
                lines.append(ScriptLine("        " + literal, sourceLine: line.number))
            }
        }
        lines.append(ScriptLine("    )", sourceLine: number))
        return lines
    }

    /// `%%bash`, `%%sh`, `%%script bash|sh`: the body runs as one shell script. A failing script
    /// stops the notebook's script, as a failing `%%bash` cell stops a notebook run.
    private mutating func shellCell(name: String, arguments: String, magicLine: String, at number: Int, body: [NumberedLine]) -> [ScriptLine] {
        var words = arguments.split(whereSeparator: \.isWhitespace).map(String.init)
        var shell = name
        if name == "script" {
            let program = words.first { !$0.hasPrefix("-") }
            shell = program.map { ($0 as NSString).lastPathComponent } ?? ""
            if let program, let index = words.firstIndex(of: program) { words.remove(at: index) }
            guard shell == "bash" || shell == "sh" else {
                warn(number, magicLine, "drops the whole cell: only %%script bash and %%script sh can run without Jupyter")
                return [ScriptLine("# dropped cell magic %%script \(shell)", sourceLine: number)]
            }
        }
        let executable = shell == "bash" ? "\"/bin/bash\"" : "\"/bin/sh\""
        var message = "runs the cell with \(shell == "bash" ? "/bin/bash" : "/bin/sh") through subprocess.run (a failing command stops the script)"
        if !words.isEmpty { message += "; its options \(words.joined(separator: " ")) are ignored" }
        warn(number, magicLine, message)
        need(.subprocess)

        var lines = [ScriptLine("_fair_subprocess.run(", sourceLine: number)]
        if body.isEmpty {
            lines.append(ScriptLine("    \"\"", sourceLine: number))
        } else {
            for (line, literal) in zip(body, PythonLiteral.lines(body.map(\.text))) {
                lines.append(ScriptLine("    " + literal, sourceLine: line.number))
            }
        }
        lines[lines.count - 1].text += ","
        lines.append(ScriptLine("    shell=True, check=True, executable=\(executable),", sourceLine: number))
        lines.append(ScriptLine(")", sourceLine: number))
        return lines
    }

    /// Lines one block deeper. Lines that continue a multi-line string keep their text (it is
    /// data); a tab is used when the cell indents with tabs, so Python's tab checks still pass.
    static func indented(_ lines: [ScriptLine]) -> [ScriptLine] {
        let usesTabs = lines.contains { stripIndent($0.text).indent.contains("\t") }
        let step = usesTabs ? "\t" : "    "
        var state = PythonLineState()
        return lines.map { line in
            defer { state.consume(line.text) }
            if state.insideString || isBlank(line.text) { return line }
            return ScriptLine(step + line.text, sourceLine: line.sourceLine)
        }
    }
}
