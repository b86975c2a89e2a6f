import FairArchive
import Foundation

/// Produces a request body for libcurl's read callback: from memory, or from a byte range of a
/// file (by path, or open already) read piece by piece with pread (the file is never loaded whole). Can start over, so a
/// body can be sent again after a redirect or when libcurl retries on a fresh connection.
final class RequestBodySource {
    private enum Storage {
        case bytes([UInt8])
        /// `owned`: opened here, and closed here.
        case file(path: String, descriptor: Int32, offset: Int64, owned: Bool)
    }

    private let storage: Storage
    /// Total number of bytes in the body.
    let size: Int64
    private var position: Int64 = 0

    init(_ body: HTTPBody) throws {
        switch body {
        case .empty:
            storage = .bytes([])
            size = 0
        case let .bytes(bytes):
            storage = .bytes(bytes)
            size = Int64(bytes.count)
        case let .file(path, offset, length):
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 { throw ArchiveError.io(path: path, operation: "open", errno: errno) }
            var info = stat()
            if fstat(descriptor, &info) != 0 {
                let code = errno
                close(descriptor)
                throw ArchiveError.io(path: path, operation: "stat", errno: code)
            }
            let fileSize = Int64(info.st_size)
            let length = length ?? (fileSize - offset)
            guard offset >= 0, length >= 0, offset <= fileSize, length <= fileSize - offset else {
                close(descriptor)
                throw Self.rangeError(path: path, offset: offset, length: length)
            }
            storage = .file(path: path, descriptor: descriptor, offset: offset, owned: true)
            size = length
        case let .descriptor(descriptor, name, offset, length):
            guard offset >= 0, length >= 0 else { throw Self.rangeError(path: name, offset: offset, length: length) }
            storage = .file(path: name, descriptor: descriptor, offset: offset, owned: false)
            size = length
        }
    }

    deinit {
        if case let .file(_, descriptor, _, owned) = storage, owned { close(descriptor) }
    }

    /// Fills as much of `buffer` as the body has left; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = Int(min(Int64(buffer.count), size - position))
        guard count > 0, let base = buffer.baseAddress else { return 0 }
        switch storage {
        case let .bytes(bytes):
            bytes.withUnsafeBytes { source in
                base.copyMemory(from: source.baseAddress! + Int(position), byteCount: count)
            }
        case let .file(path, descriptor, offset, _):
            var done = 0
            while done < count {
                let n = pread(descriptor, base + done, count - done, off_t(offset + position + Int64(done)))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ArchiveError.io(path: path, operation: "read", errno: errno)
                }
                if n == 0 {
                    // The file got shorter since the upload started.
                    throw Self.rangeError(path: path, offset: offset, length: size)
                }
                done += n
            }
        }
        position += Int64(count)
        return count
    }

    /// Moves to `offset` bytes into the body.
    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= size else { return false }
        position = offset
        return true
    }

    private static func rangeError(path: String, offset: Int64, length: Int64) -> ArchiveError {
        .io(path: path, operation: "upload bytes \(offset)..<\(offset + length) of", errno: ENODATA)
    }
}
