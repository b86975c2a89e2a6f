import Foundation

/// Turns one code cell into Python that a plain interpreter runs the way Jupyter ran the cell:
/// magics that wrap execution keep their code, shell commands go through `subprocess`, and what
/// has no plain-Python meaning is dropped. Every line changed or dropped is recorded as a warning.
struct CellTranslator {
    struct NumberedLine {
        /// 1-based line within the cell's source.
        var number: Int
        var text: String
    }

    struct Warning {
        var line: Int
        var source: String
        var message: String
    }

    /// What becomes of one IPython-only statement.
    enum Translation {
        /// Replaced by these Python lines (at the statement's indentation); the message says how
        /// it now runs.
        case replaced([String], message: String)
        /// Not run at all; the message says why and what to do instead.
        case dropped(message: String)
    }

    private(set) var warnings: [Warning] = []
    /// Definitions and modules the translated code relies on.
    private(set) var prelude: Set<PreludeItem> = []

    /// The cell's lines as Python; empty when the cell holds no code.
    mutating func translate(_ source: String) -> [ScriptLine] {
        let normalised = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines = normalised.components(separatedBy: "\n").enumerated().map { NumberedLine(number: $0 + 1, text: $1) }
        while let first = lines.first, Self.isBlank(first.text) { lines.removeFirst() }
        while let last = lines.last, Self.isBlank(last.text) { lines.removeLast() }
        guard let first = lines.first else { return [] }

        let magicLine = Self.stripIndent(first.text).text
        if magicLine.hasPrefix("%%") {
            return translateCellMagic(magicLine, at: first.number, body: Array(lines.dropFirst()))
        }
        return translateLines(lines[...])
    }

    /// Python statements kept verbatim, IPython-only statements translated. Lines are only taken
    /// for magics where a Python statement could start, so a `%` or `!` at the start of a line
    /// inside a multi-line string or inside brackets is kept.
    mutating func translateLines(_ lines: ArraySlice<NumberedLine>) -> [ScriptLine] {
        var output: [ScriptLine] = []
        var state = PythonLineState()
        // Smallest indentation of the statements kept so far: a dropped line indented deeper
        // sits in a block, which must not be left empty.
        var outerIndent: Int?
        var index = lines.startIndex
        while index < lines.endIndex {
            let line = lines[index]
            let (indent, text) = Self.stripIndent(line.text)
            guard state.atStatementStart, Self.isIPythonOnly(text) else {
                if state.atStatementStart, !text.isEmpty, !text.hasPrefix("#") {
                    outerIndent = min(outerIndent ?? indent.count, indent.count)
                }
                output.append(ScriptLine(line.text, sourceLine: line.number))
                state.consume(line.text)
                index += 1
                continue
            }

            // IPython joins a command continued with a trailing backslash into one line.
            var physical = [line]
            var command = text
            while command.hasSuffix("\\"), index + physical.count < lines.endIndex {
                let next = lines[index + physical.count]
                command = String(command.dropLast()) + " " + Self.stripIndent(next.text).text
                physical.append(next)
            }
            index += physical.count

            let shown = physical.map { Self.stripIndent($0.text).text }.joined(separator: "\n")
            switch translateStatement(command) {
            case let .replaced(replacement, message):
                warn(line.number, shown, message)
                output += replacement.map { ScriptLine(indent + $0, sourceLine: line.number) }
                outerIndent = min(outerIndent ?? indent.count, indent.count)
            case let .dropped(message):
                warn(line.number, shown, message)
                let inBlock = outerIndent.map { indent.count > $0 } ?? false
                for (offset, part) in physical.enumerated() {
                    let text = Self.stripIndent(part.text).text
                    let comment = offset == 0 && inBlock ? "pass  # dropped: \(text)" : "# dropped: \(text)"
                    output.append(ScriptLine(indent + comment, sourceLine: part.number))
                }
            }
        }
        return output
    }

    mutating func warn(_ line: Int, _ source: String, _ message: String) {
        warnings.append(Warning(line: line, source: source, message: message))
    }

    mutating func need(_ items: PreludeItem...) {
        prelude.formUnion(items)
    }

    // MARK: - Text helpers

    static func isBlank(_ line: String) -> Bool {
        line.allSatisfy(\.isWhitespace)
    }

    static func stripIndent(_ line: String) -> (indent: String, text: String) {
        let indent = line.prefix { $0 == " " || $0 == "\t" }
        return (String(indent), String(line.dropFirst(indent.count)))
    }

    /// Whether a line (without its indentation), at the start of a statement, is IPython syntax
    /// rather than Python.
    static func isIPythonOnly(_ text: String) -> Bool {
        if text.hasPrefix("%") || text.hasPrefix("!") { return true }
        return assignmentFromCommand(text) != nil || isPackageAutomagic(text)
    }

    /// `name = !cmd`, `a, b = %magic`: IPython assigns a command's output to Python names.
    /// Returns the targets as written and the command (starting with `!` or `%`).
    static func assignmentFromCommand(_ text: String) -> (targets: String, command: String)? {
        var rest = Substring(text)
        func skipBlanks() {
            rest = rest.drop { $0 == " " || $0 == "\t" }
        }
        func takeName() -> Bool {
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
            rest = rest.dropFirst(name.count)
            return !name.isEmpty
        }
        guard takeName() else { return nil }
        while true {
            skipBlanks()
            guard rest.first == "," else { break }
            rest = rest.dropFirst()
            skipBlanks()
            guard takeName() else { return nil }
        }
        let targets = text[..<rest.startIndex].trimmingCharacters(in: .whitespaces)
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst()
        skipBlanks()
        guard rest.first == "!" || rest.first == "%" else { return nil }
        return (targets, String(rest))
    }

    /// `pip install x` without `%`: IPython runs it through the `%pip` automagic. It can never be
    /// a Python statement (two names side by side).
    static func isPackageAutomagic(_ text: String) -> Bool {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(2)
        guard words.count == 2 else { return false }
        return ["pip", "conda", "mamba"].contains(words[words.startIndex])
            && ["install", "uninstall"].contains(words[words.startIndex + 1])
    }
}
