/// Python source text for values the converter writes into a script.
enum PythonLiteral {
    /// A double-quoted Python string literal holding `text` exactly: quotes, backslashes and
    /// control characters escaped, other characters (UTF-8 source) kept as they are.
    static func string(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": literal += "\\\\"
            case "\"": literal += "\\\""
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            default:
                // Python's tokenizer would end the line (or the file would be hard to read) at these.
                if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    let hex = String(scalar.value, radix: 16)
                    literal += scalar.value <= 0xFF
                        ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                        : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    literal.unicodeScalars.append(scalar)
                }
            }
        }
        return literal + "\""
    }

    /// A value written as one string literal per line, for `f(\n    "a\n"\n    "b\n"\n)`:
    /// Python joins adjacent literals, and each line of the original stays one line of source.
    static func lines(_ lines: [String]) -> [String] {
        guard !lines.isEmpty else { return ["\"\""] }
        return lines.map { string($0 + "\n") }
    }
}
