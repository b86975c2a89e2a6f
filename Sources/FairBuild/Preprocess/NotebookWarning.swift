/// A line of a notebook that the script runs differently from Jupyter, or not at all.
public struct NotebookWarning: Sendable, Equatable, CustomStringConvertible {
    /// The notebook, as named by the caller (e.g. "train.ipynb").
    public var file: String
    /// 1-based position of the cell among all cells, as Jupyter counts them.
    public var cell: Int
    /// 1-based line within the cell's source.
    public var line: Int
    /// The line as written in the notebook.
    public var source: String
    /// What happened to it, e.g. "is not run: …".
    public var message: String

    public var description: String {
        let shown = source.count > 80 ? String(source.prefix(77)) + "..." : source
        return "\(file): cell \(cell), line \(line): `\(shown)` \(message)"
    }
}
