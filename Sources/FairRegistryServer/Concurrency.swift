import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking file work (hashing a large file) on a dispatch queue, off the threads that run
/// request handlers.
func runBlocking<T>(_ work: @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try work() })
        }
    }
}

/// Appends to an existing file; `truncate(to:)` undoes a partial append.
final class AppendingFile: ByteSink {
    let path: String
    private var fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd < 0 { throw ArchiveError.io(path: path, operation: "open for appending", errno: errno) }
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.io(path: path, operation: "write", errno: errno)
            }
            remaining -= written
            base = base.advanced(by: written)
        }
    }

    func truncate(to size: Int64) {
        _ = ftruncate(fd, off_t(size))
    }

    func finish() throws {
        guard fd >= 0 else { return }
        let result = close(fd)
        fd = -1
        if result != 0 { throw ArchiveError.io(path: path, operation: "close", errno: errno) }
    }
}

/// The running sha256 of each upload session, so closing a chunked upload does not read the
/// whole file again. An entry only counts while it has hashed exactly the bytes in the session
/// file; otherwise (after a restart, or a failed chunk) the file is hashed at the close.
final class UploadHashers: @unchecked Sendable {
    private var hashers: [String: DigestingSink] = [:]
    private let lock = NSLock()

    /// Takes the session's hasher out when it covers exactly `size` bytes.
    func take(_ id: String, size: Int64) -> DigestingSink? {
        lock.lock(); defer { lock.unlock() }
        guard let hasher = hashers.removeValue(forKey: id), hasher.byteCount == size else { return nil }
        return hasher
    }

    func put(_ id: String, _ hasher: DigestingSink) {
        lock.lock(); defer { lock.unlock() }
        hashers[id] = hasher
    }

    func remove(_ id: String) {
        lock.lock(); defer { lock.unlock() }
        hashers[id] = nil
    }
}
