import Foundation

/// How much an extraction may write, across all the layers of one image: a few megabytes of
/// gzip can claim gigabytes of zeros, and a layer of empty files can use up the inodes. A
/// file's declared size is counted before any byte of it is written, so going over the budget
/// costs nothing on disk.
public final class ExtractionBudget: @unchecked Sendable {
    public let bytes: Int64
    public let entries: Int
    /// What the limit is, for the error (`the node's limit of 20 GiB per image`).
    public let name: String
    public private(set) var bytesUsed: Int64 = 0
    public private(set) var entriesUsed = 0
    private let lock = NSLock()

    public init(bytes: Int64, entries: Int = 2_000_000, name: String) {
        self.bytes = bytes
        self.entries = entries
        self.name = name
    }

    func spend(bytes count: Int64, entry path: String) throws {
        lock.lock(); defer { lock.unlock() }
        entriesUsed += 1
        bytesUsed += max(0, count)
        if bytesUsed > bytes {
            throw ArchiveError.unsafeEntry(path: path, reason: "unpacks to more than \(name) (\(bytes) bytes)")
        }
        if entriesUsed > entries {
            throw ArchiveError.unsafeEntry(path: path, reason: "has more than \(entries) entries, \(name)")
        }
    }
}
