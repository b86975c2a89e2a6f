import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so they appear whole or not at all: the content goes to a temporary file in the
/// same directory, which is renamed over the destination only once it is complete.
public enum AtomicFile {
    public static func write(to path: String, _ produce: (_ temporaryPath: String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporaryPath = "\(directory)/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        TemporaryFiles.register(temporaryPath)
        defer { TemporaryFiles.unregister(temporaryPath) }
        do {
            try produce(temporaryPath)
            if rename(temporaryPath, path) != 0 {
                throw ArchiveError.io(path: path, operation: "rename into", errno: errno)
            }
        } catch {
            unlink(temporaryPath)
            throw error
        }
    }

    /// `permissions` are set before the file appears, so a secret is never readable by others.
    public static func write(to path: String, bytes: [UInt8], permissions: mode_t? = nil) throws {
        try write(to: path) { temporaryPath in
            let sink = try FileSink(path: temporaryPath)
            if let permissions, chmod(temporaryPath, permissions) != 0 {
                throw ArchiveError.io(path: temporaryPath, operation: "chmod", errno: errno)
            }
            try sink.write(bytes)
            try sink.finish()
        }
    }
}

/// Temporary files and directories in flight, so an interrupt (Ctrl-C, SIGTERM) can remove them
/// before the process exits and leave nothing half-written behind.
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths = Set<String>()
    nonisolated(unsafe) private static var cleanups: [String: () -> Void] = [:]

    /// Registers a custom cleanup (e.g. one that must unmount before deleting).
    public static func registerCleanup(_ key: String, _ cleanup: @escaping () -> Void) {
        lock.lock(); defer { lock.unlock() }
        cleanups[key] = cleanup
    }

    public static func unregisterCleanup(_ key: String) {
        lock.lock(); defer { lock.unlock() }
        cleanups[key] = nil
    }

    public static func register(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.insert(path)
    }

    public static func unregister(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.remove(path)
    }

    /// Removes everything registered (files or directory trees).
    public static func removeAll() {
        lock.lock(); defer { lock.unlock() }
        for path in paths {
            try? FileManager.default.removeItem(atPath: path)
        }
        paths.removeAll()
        for cleanup in cleanups.values { cleanup() }
        cleanups.removeAll()
    }
}
