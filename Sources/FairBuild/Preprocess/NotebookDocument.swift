import Foundation

/// The code cells of a Jupyter notebook (nbformat 4, or 3 with worksheets), read from its JSON.
struct NotebookDocument {
    struct CodeCell {
        /// 1-based position among all cells of the notebook, as Jupyter's UI counts them.
        var number: Int
        var source: String
    }

    var codeCells: [CodeCell]

    /// Parses notebook JSON; `sourceName` (e.g. "train.ipynb") names the file in errors.
    static func parse(_ data: Data, sourceName: String) throws -> NotebookDocument {
        let notebook = try parseCells(data, sourceName: sourceName)
        var codeCells: [CodeCell] = []
        for (offset, value) in notebook.cells.enumerated() {
            let number = offset + 1
            guard let cell = value as? [String: Any] else {
                throw NotebookError(file: sourceName, reason: "cell \(number) is not a JSON object")
            }
            guard let type = cell["cell_type"] as? String else {
                throw NotebookError(file: sourceName, reason: "cell \(number) has no \"cell_type\"")
            }
            guard type == "code" else { continue }
            let key = notebook.codeKey
            let source = try sourceText(cell[key] ?? cell["source"], key: key, cell: number, file: sourceName)
            codeCells.append(CodeCell(number: number, source: source))
        }
        return NotebookDocument(codeCells: codeCells)
    }

    private struct Cells {
        var cells: [Any]
        /// Where a code cell keeps its text: "source" in nbformat 4, "input" in nbformat 3.
        var codeKey: String
    }

    private static func parseCells(_ data: Data, sourceName: String) throws -> Cells {
        if data.isEmpty {
            throw NotebookError(file: sourceName, reason: "not valid JSON: the file is empty")
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw NotebookError(file: sourceName, reason: "not valid JSON: \(describeJSONError(error, in: data))")
        }
        guard let object = root as? [String: Any] else {
            throw NotebookError(file: sourceName, reason: "not a notebook: the JSON is not an object with a \"cells\" list")
        }

        if let version = object["nbformat"] as? Int, version != 3, version != 4 {
            throw NotebookError(file: sourceName, reason: "nbformat \(version) is not supported; fair reads nbformat 4 (and 3)")
        }
        if let cells = object["cells"] {
            guard let list = cells as? [Any] else {
                throw NotebookError(file: sourceName, reason: "not a notebook: \"cells\" is not a list")
            }
            return Cells(cells: list, codeKey: "source")
        }
        if let worksheets = object["worksheets"] {
            guard let sheets = worksheets as? [Any] else {
                throw NotebookError(file: sourceName, reason: "not a notebook: \"worksheets\" is not a list")
            }
            var cells: [Any] = []
            for (index, sheet) in sheets.enumerated() {
                guard let sheetObject = sheet as? [String: Any], let sheetCells = sheetObject["cells"] as? [Any] else {
                    throw NotebookError(file: sourceName, reason: "worksheet \(index + 1) has no \"cells\" list")
                }
                cells.append(contentsOf: sheetCells)
            }
            return Cells(cells: cells, codeKey: "input")
        }
        throw NotebookError(file: sourceName, reason: "not a notebook: the JSON has no \"cells\" list")
    }

    /// Foundation reports the byte offset of a syntax error ("around character 16"); adds the line
    /// and column, which are what an editor shows.
    private static func describeJSONError(_ error: Error, in data: Data) -> String {
        let nsError = error as NSError
        let message = (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
        guard let marker = message.range(of: "character ") else { return message }
        let digits = message[marker.upperBound...].prefix { $0.isASCII && $0.isNumber }
        guard let offset = Int(digits), offset <= data.count else { return message }
        var line = 1
        var lineStart = 0
        for (index, byte) in data.prefix(offset).enumerated() where byte == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        let column = offset - lineStart + 1
        var trimmed = message
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return "\(trimmed) (line \(line), column \(column))"
    }

    private static func sourceText(_ value: Any?, key: String, cell: Int, file: String) throws -> String {
        if let text = value as? String { return text }
        if let parts = value as? [Any] {
            var text = ""
            for part in parts {
                guard let piece = part as? String else {
                    throw NotebookError(file: file, reason: "cell \(cell): \"\(key)\" must be a string or a list of strings, but the list holds \(describeJSONType(part))")
                }
                text += piece
            }
            return text
        }
        let found = value.map(describeJSONType) ?? "nothing"
        throw NotebookError(file: file, reason: "cell \(cell): \"\(key)\" must be a string or a list of strings, not \(found)")
    }

    private static func describeJSONType(_ value: Any) -> String {
        switch value {
        case is String: return "a string"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        case is NSNull: return "null"
        case let number as NSNumber:
            // Foundation encodes JSON `true`/`false` as a char-typed number.
            return String(cString: number.objCType) == "c" ? "a boolean" : "a number"
        default: return "\(type(of: value))"
        }
    }
}
