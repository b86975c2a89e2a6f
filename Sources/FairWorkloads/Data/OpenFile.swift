import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file opened once for a transfer: hashed and sent (or written and renamed) through the same
/// descriptor, so what was checked is what moves. Closed on deinit.
final class OpenFile {
    let path: String
    let descriptor: Int32

    init(reading path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if descriptor < 0 { throw ArchiveError.io(path: path, operation: "open", errno: errno) }
    }

    /// A new file, readable only by its owner until its mode is set.
    init(creating path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if descriptor < 0 { throw ArchiveError.io(path: path, operation: "create", errno: errno) }
    }

    deinit { close(descriptor) }

    func status() throws -> stat {
        var info = stat()
        if fstat(descriptor, &info) != 0 { throw ArchiveError.io(path: path, operation: "stat", errno: errno) }
        return info
    }

    /// SHA-256 (hex) of the first `length` bytes, read with pread (the offset stays where it is).
    func sha256(length: Int64) throws -> String {
        let hasher = DigestingSink()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < length {
            let n = pread(descriptor, buffer.baseAddress, Int(min(Int64(buffer.count), length - offset)), off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { throw DataTransferError.localConflict(path: path, problem: "got shorter while it was read") }
            try hasher.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += Int64(n)
        }
        try hasher.finish()
        return hasher.hexDigest!
    }

    func setMode(_ mode: UInt16) throws {
        if fchmod(descriptor, mode_t(mode)) != 0 { throw ArchiveError.io(path: path, operation: "chmod", errno: errno) }
    }
}
