/// A notebook that cannot be converted.
public struct NotebookError: Error, CustomStringConvertible {
    /// The notebook, as named by the caller (e.g. "train.ipynb").
    public let file: String
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String {
        "\(file): \(reason)"
    }
}
