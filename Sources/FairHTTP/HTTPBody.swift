/// The body of a request.
public enum HTTPBody: Sendable {
    case empty
    case bytes([UInt8])
    /// A byte range of a file, streamed (never loaded whole). length nil = to end of file.
    case file(path: String, offset: Int64 = 0, length: Int64? = nil)
    /// A byte range of a file already open, streamed with pread: the caller keeps `descriptor`
    /// open until `send` returns and closes it after. The bytes sent are those of the file the
    /// caller opened (and perhaps hashed), even if its path is replaced meanwhile. `name` says
    /// which file it is in errors.
    case descriptor(Int32, name: String, offset: Int64 = 0, length: Int64)

    var isEmpty: Bool {
        if case .empty = self { return true }
        return false
    }
}
