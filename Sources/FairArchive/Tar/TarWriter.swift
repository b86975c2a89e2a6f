import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// A thin owner of a libarchive write handle producing a POSIX (pax) tar stream into a `ByteSink`.
/// It writes exactly the entries it is given, in the order given: ordering and normalisation are
/// the caller's decisions (see `LayerWriter`).
public final class TarWriter {
    private let handle: OpaquePointer
    private let output: SinkBox
    private var closed = false

    public init(sink: ByteSink) throws {
        UTF8Locale.ensured
        guard let handle = archive_write_new() else {
            throw ArchiveError.libarchive(operation: "archive_write_new", message: "out of memory")
        }
        self.handle = handle
        self.output = SinkBox(sink)
        try checkArchive(archive_write_set_format_pax_restricted(handle), handle, "select pax tar format")
        // No padding to 10 KiB records: the stream ends right after the two zero blocks, as Go's
        // archive/tar does, so layers are no bigger than they need to be.
        try checkArchive(archive_write_set_bytes_per_block(handle, 0), handle, "set tar block size")
        let context = Unmanaged.passUnretained(output).toOpaque()
        try checkArchive(
            archive_write_open2(handle, context, nil, tarWriteCallback, nil, nil),
            handle, "open tar stream")
    }

    deinit {
        if !closed { archive_write_close(handle) }
        archive_write_free(handle)
    }

    /// Writes an entry's header; for files, follow with `writeData` of exactly `size` bytes.
    public func writeHeader(_ entry: TarEntry) throws {
        guard let raw = archive_entry_new() else {
            throw ArchiveError.libarchive(operation: "archive_entry_new", message: "out of memory")
        }
        defer { archive_entry_free(raw) }
        archive_entry_set_pathname_utf8(raw, entry.path)
        archive_entry_set_uid(raw, entry.uid)
        archive_entry_set_gid(raw, entry.gid)
        archive_entry_set_mtime(raw, time_t(entry.mtime), 0)
        switch entry.kind {
        case let .file(size):
            archive_entry_set_filetype(raw, FileType.regular)
            archive_entry_set_size(raw, size)
        case .directory:
            archive_entry_set_filetype(raw, FileType.directory)
            archive_entry_set_size(raw, 0)
        case let .symlink(target):
            archive_entry_set_filetype(raw, FileType.symlink)
            archive_entry_set_symlink_utf8(raw, target)
            archive_entry_set_size(raw, 0)
        case let .hardlink(target):
            archive_entry_set_filetype(raw, FileType.regular)
            archive_entry_set_hardlink_utf8(raw, target)
            archive_entry_set_size(raw, 0)
        case .other:
            throw ArchiveError.unsafeEntry(path: entry.path, reason: "fair writes only files, directories and links")
        }
        archive_entry_set_perm(raw, entry.mode & 0o7777)
        try output.rethrow()
        let status = archive_write_header(handle, raw)
        try output.rethrow()
        try checkArchive(status, handle, "write tar header for \(entry.path)")
    }

    public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        let written = archive_write_data(handle, bytes.baseAddress, bytes.count)
        try output.rethrow()
        if written < 0 {
            throw ArchiveError.libarchive(operation: "write tar data", message: archiveMessage(handle))
        }
    }

    /// Writes a regular file entry whose contents stream from `path` on disk. The file must still
    /// have the size recorded in `entry`; a file that changed while being archived is an error
    /// rather than a corrupt layer.
    public func writeFile(_ entry: TarEntry, contentsOf path: String) throws {
        guard case let .file(expected) = entry.kind else {
            preconditionFailure("writeFile needs a .file entry")
        }
        try writeHeader(entry)
        let file = try ReadableFile(path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ReadableFile.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try file.read(into: buffer)
            if n == 0 { break }
            total += Int64(n)
            if total > expected { break }
            try writeData(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        if total != expected {
            throw ArchiveError.libarchive(
                operation: "archive \(path)",
                message: "file changed size while it was being read (expected \(expected) bytes, read \(total))")
        }
    }

    /// Writes a regular file entry whose contents are the given bytes.
    public func writeFile(_ entry: TarEntry, contents: [UInt8]) throws {
        var entry = entry
        entry.kind = .file(size: Int64(contents.count))
        try writeHeader(entry)
        try contents.withUnsafeBytes { try writeData($0) }
    }

    /// Writes the end-of-archive blocks and finishes the sink.
    public func finish() throws {
        guard !closed else { return }
        closed = true
        let status = archive_write_close(handle)
        try output.rethrow()
        try checkArchive(status, handle, "finish tar stream")
        try output.sink.finish()
    }
}

/// Carries the sink into libarchive's C callback, and the sink's Swift error back out of it.
private final class SinkBox {
    let sink: ByteSink
    var error: Error?

    init(_ sink: ByteSink) { self.sink = sink }

    func rethrow() throws {
        if let error {
            self.error = nil
            throw error
        }
    }
}

private func tarWriteCallback(
    _ archive: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ buffer: UnsafeRawPointer?, _ length: Int
) -> Int {
    let box = Unmanaged<SinkBox>.fromOpaque(context!).takeUnretainedValue()
    do {
        try box.sink.write(UnsafeRawBufferPointer(start: buffer, count: length))
        return length
    } catch {
        box.error = error
        return -1
    }
}
