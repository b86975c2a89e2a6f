/// Enough of Python's tokenizer to know whether the next line starts a new statement: tracks
/// open brackets, strings (triple-quoted ones span lines) and backslash continuations.
struct PythonLineState {
    private var openQuote: Unicode.Scalar?
    private var tripleQuoted = false
    private var depth = 0
    private var continued = false

    var atStatementStart: Bool { openQuote == nil && depth == 0 && !continued }
    /// Whether the next line starts inside a (triple-quoted) string, so its indentation is data.
    var insideString: Bool { openQuote != nil }

    mutating func consume(_ line: String) {
        let scalars = Array(line.unicodeScalars)
        continued = false
        var index = 0
        var stringEndsEscaped = false
        while index < scalars.count {
            let scalar = scalars[index]
            if let quote = openQuote {
                if scalar == "\\" {
                    if index == scalars.count - 1 { stringEndsEscaped = true }
                    index += 2
                    continue
                }
                if scalar == quote {
                    if !tripleQuoted {
                        openQuote = nil
                    } else if index + 2 < scalars.count, scalars[index + 1] == quote, scalars[index + 2] == quote {
                        openQuote = nil
                        index += 3
                        continue
                    }
                }
                index += 1
                continue
            }
            switch scalar {
            case "#":
                index = scalars.count
                continue
            case "'", "\"":
                openQuote = scalar
                if index + 2 < scalars.count, scalars[index + 1] == scalar, scalars[index + 2] == scalar {
                    tripleQuoted = true
                    index += 3
                    continue
                }
                tripleQuoted = false
            case "(", "[", "{":
                depth += 1
            case ")", "]", "}":
                depth = max(0, depth - 1)
            case "\\":
                if index == scalars.count - 1 { continued = true }
            default:
                break
            }
            index += 1
        }
        // A one-line string ends with its line unless a backslash carries it over.
        if openQuote != nil, !tripleQuoted, !stringEndsEscaped {
            openQuote = nil
        }
    }
}
