/// What a push or pull reports as it goes, from its worker threads: enough for a progress display.
public enum DataTransferEvent: Sendable {
    /// Before the first file: how many there are to look at, and their bytes.
    case planned(files: Int, bytes: Int64)
    case started(path: String, size: Int64)
    /// Bytes of the file sent or received so far.
    case progress(path: String, bytes: Int64)
    /// `transferred` false: the file was already there, the same bytes.
    case finished(path: String, size: Int64, transferred: Bool)
}

/// What a push or pull did.
public struct DataTransferSummary: Sendable {
    public var files = 0
    public var bytes: Int64 = 0
    public var transferredFiles = 0
    public var transferredBytes: Int64 = 0
    /// Files that were already there with the same content (a resumed or repeated transfer).
    public var unchangedFiles: Int { files - transferredFiles }
    /// Entries left out: links, special files.
    public var skipped: [(path: String, why: String)] = []

    public init() {}
}
