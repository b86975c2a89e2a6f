import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Mutual exclusion per key (a repository, an upload session) for async handlers: a waiter
/// suspends instead of blocking a thread.
actor KeyedLock {
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    private func acquire(_ key: String) async {
        if waiters[key] == nil {
            waiters[key] = []
            return
        }
        await withCheckedContinuation { continuation in
            waiters[key]!.append(continuation)
        }
    }

    private func release(_ key: String) {
        guard var queue = waiters[key] else { return }
        if queue.isEmpty {
            waiters[key] = nil
        } else {
            // Ownership passes straight to the next waiter.
            let next = queue.removeFirst()
            waiters[key] = queue
            next.resume()
        }
    }

    nonisolated func withLock<T>(_ key: String, _ body: () async throws -> T) async rethrows -> T {
        await acquire(key)
        do {
            let result = try await body()
            await release(key)
            return result
        } catch {
            await release(key)
            throw error
        }
    }
}

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
