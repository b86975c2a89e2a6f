import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// A thin owner of a libarchive read handle over a tar file, plain or compressed (gzip, zstd, …):
/// entries are visited in order and their data streamed, never loaded whole.
public final class TarReader {
    private let handle: OpaquePointer
    public let path: String

    public init(path: String) throws {
        UTF8Locale.ensured
        guard let handle = archive_read_new() else {
            throw ArchiveError.libarchive(operation: "archive_read_new", message: "out of memory")
        }
        self.handle = handle
        self.path = path
        archive_read_support_filter_all(handle)
        archive_read_support_format_tar(handle)
        archive_read_support_format_gnutar(handle)
        try checkArchive(archive_read_open_filename(handle, path, 1 << 20), handle, "open \(path)")
    }

    deinit {
        archive_read_close(handle)
        archive_read_free(handle)
    }

    /// The next entry's header, or nil at the end of the archive.
    public func next() throws -> TarEntry? {
        var raw: OpaquePointer?
        let status = archive_read_next_header(handle, &raw)
        if status == ARCHIVE_EOF { return nil }
        try checkArchive(status, handle, "read \(path)")
        guard let raw else { return nil }
        let name = archive_entry_pathname_utf8(raw).map { String(cString: $0) }
            ?? archive_entry_pathname(raw).map { String(cString: $0) } ?? ""
        let type = archive_entry_filetype(raw)
        let kind: TarEntry.Kind
        if let hardlink = archive_entry_hardlink_utf8(raw) ?? archive_entry_hardlink(raw) {
            kind = .hardlink(target: String(cString: hardlink))
        } else {
            switch type {
            case FileType.regular: kind = .file(size: archive_entry_size(raw))
            case FileType.directory: kind = .directory
            case FileType.symlink:
                let target = archive_entry_symlink_utf8(raw) ?? archive_entry_symlink(raw)
                kind = .symlink(target: target.map { String(cString: $0) } ?? "")
            default: kind = .other(fileType: type)
            }
        }
        return TarEntry(
            path: name, kind: kind, mode: UInt32(archive_entry_perm(raw)),
            uid: archive_entry_uid(raw), gid: archive_entry_gid(raw), mtime: Int64(archive_entry_mtime(raw)))
    }

    /// Streams the current entry's data into `sink` (without finishing it); returns the byte count.
    @discardableResult
    public func readData(into sink: ByteSink) throws -> Int64 {
        var total: Int64 = 0
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let status = archive_read_data_block(handle, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { break }
            try checkArchive(status, handle, "read data from \(path)")
            // Sparse entries report gaps through offsets; fair never writes them and refuses them.
            if offset != total {
                throw ArchiveError.unsafeEntry(path: path, reason: "sparse tar entries are not supported")
            }
            try sink.write(UnsafeRawBufferPointer(start: buffer, count: size))
            total += Int64(size)
        }
        return total
    }

    /// Reads the current entry into memory, refusing anything over `limit` bytes (manifests and
    /// configs are small; a huge "index.json" means the archive is not what it claims to be).
    public func readSmallData(limit: Int = 8 << 20) throws -> [UInt8] {
        let collector = CollectingSink(limit: limit, name: path)
        try readData(into: collector)
        return collector.bytes
    }
}

/// Collects a small stream in memory, with a hard cap.
public final class CollectingSink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    private let limit: Int
    private let name: String

    public init(limit: Int, name: String) {
        self.limit = limit
        self.name = name
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        if bytes.count + chunk.count > limit {
            throw ArchiveError.libarchive(operation: "read \(name)", message: "entry larger than \(limit) bytes")
        }
        bytes.append(contentsOf: chunk)
    }

    public func finish() throws {}
}
