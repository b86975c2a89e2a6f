/// What applying one layer did, for logging.
public struct ExtractionSummary: Sendable, Equatable {
    /// Regular files written.
    public var files: Int
    /// Directories created or updated (the root included, when the layer has a `./` entry).
    public var directories: Int
    public var symlinks: Int
    public var hardlinks: Int
    /// Whiteout entries applied, opaque markers included.
    public var whiteouts: Int
    /// Entries deliberately not written: FIFOs, sockets, aufs bookkeeping, and anything below a
    /// directory named like a whiteout.
    public var skipped: Int

    public init(files: Int = 0, directories: Int = 0, symlinks: Int = 0, hardlinks: Int = 0, whiteouts: Int = 0, skipped: Int = 0) {
        self.files = files
        self.directories = directories
        self.symlinks = symlinks
        self.hardlinks = hardlinks
        self.whiteouts = whiteouts
        self.skipped = skipped
    }
}
