#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writes a stream to a file descriptor, retrying short writes and reporting a full disk
/// as an error that names the file.
public final class FileSink: ByteSink {
    public let path: String
    private var fd: Int32
    private let closeOnFinish: Bool

    /// Creates (truncating) `path` with mode 0644.
    public init(path: String) throws {
        self.path = path
        self.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        self.closeOnFinish = true
        if fd < 0 { throw ArchiveError.io(path: path, operation: "create", errno: errno) }
    }

    /// Wraps an already open descriptor (e.g. standard output) without taking ownership.
    public init(fileDescriptor: Int32, name: String) {
        self.path = name
        self.fd = fileDescriptor
        self.closeOnFinish = false
    }

    deinit {
        if closeOnFinish && fd >= 0 { close(fd) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = Glibc.write(fd, base, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.io(path: path, operation: "write", errno: errno)
            }
            remaining -= n
            base = base.advanced(by: n)
        }
    }

    public func finish() throws {
        guard closeOnFinish, fd >= 0 else { return }
        // fsync is skipped on purpose: the rename that publishes the file is what must be atomic,
        // and a crashed build is simply rebuilt.
        let result = close(fd)
        fd = -1
        if result != 0 { throw ArchiveError.io(path: path, operation: "close", errno: errno) }
    }
}

/// Reads a file sequentially in fixed-size chunks.
public final class ReadableFile {
    public let path: String
    private let fd: Int32
    public static let chunkSize = 1 << 20

    public init(path: String) throws {
        self.path = path
        self.fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ArchiveError.io(path: path, operation: "open", errno: errno) }
    }

    deinit { close(fd) }

    /// Reads into `buffer`, returning the number of bytes read (0 at end of file).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.io(path: path, operation: "read", errno: errno)
            }
            return n
        }
    }

    public func seek(to offset: Int64) throws {
        if lseek(fd, off_t(offset), SEEK_SET) < 0 {
            throw ArchiveError.io(path: path, operation: "seek in", errno: errno)
        }
    }

    /// Copies `length` bytes from the current position into `sink` (without finishing it).
    public func copy(length: Int64, to sink: ByteSink) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var remaining = length
        while remaining > 0 {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), remaining))]))
            if n == 0 { throw ArchiveError.io(path: path, operation: "read (file shorter than expected)", errno: EIO) }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            remaining -= Int64(n)
        }
    }

    /// Copies the rest of the file into `sink` (without finishing it).
    public func copy(to sink: ByteSink) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try read(into: buffer)
            if n == 0 { break }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
