/// The body of a request.
public enum HTTPBody: Sendable {
    case empty
    case bytes([UInt8])
    /// A byte range of a file, streamed (never loaded whole). length nil = to end of file.
    case file(path: String, offset: Int64 = 0, length: Int64? = nil)

    var isEmpty: Bool {
        if case .empty = self { return true }
        return false
    }
}
