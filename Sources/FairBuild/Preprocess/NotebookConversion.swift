/// A notebook turned into a script, with every line that runs differently from Jupyter reported.
public struct NotebookConversion: Sendable {
    /// The Python script, ending with exactly one newline.
    public var script: String
    /// One per dropped or changed line, in notebook order.
    public var warnings: [NotebookWarning]
    /// The code cells as converted, so later checks (syntax) can name the notebook's cell and line.
    public var cells: [ConvertedCell]
}

/// One code cell's Python, each line tied to the line of the cell it came from.
public struct ConvertedCell: Sendable, Equatable {
    /// 1-based position of the cell among all cells, as Jupyter counts them.
    public var number: Int
    public var lines: [ScriptLine]

    public var text: String { lines.map(\.text).joined(separator: "\n") + "\n" }
}

/// A line of the generated script and the 1-based line of the cell it stands for.
public struct ScriptLine: Sendable, Equatable {
    public var text: String
    public var sourceLine: Int

    public init(_ text: String, sourceLine: Int) {
        self.text = text
        self.sourceLine = sourceLine
    }
}
