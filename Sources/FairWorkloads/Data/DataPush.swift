import FairArchive
import FairSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `fair data push`: every file of a local tree to the claim's directory, `jobs` at a time. A file
/// the claim already holds with the same size and SHA-256 is not sent again (only its mode is
/// set if that differs), which is what makes a push that was cut short resumable: run it again.
/// Each file is hashed, then sent from the same open descriptor; the pod checks the hash before
/// the file appears, so a file in the claim is always one that was sent whole. Nothing is deleted.
public struct DataPush {
    public var endpoint: DataPodClient
    public var jobs = 4
    public var events: (DataTransferEvent) -> Void = { _ in }

    public init(endpoint: DataPodClient) {
        self.endpoint = endpoint
    }

    public func run(_ tree: LocalTree) throws -> DataTransferSummary {
        let remote: [String: DataManifest.Entry]
        do {
            remote = try endpoint.manifest().byPath
        } catch DataTransferError.pathNotFound {
            remote = [:]  // made by the first file
        }
        events(.planned(files: tree.files.count, bytes: tree.totalBytes))
        let summary = Locked(DataTransferSummary())
        summary.update { $0.skipped = tree.skipped }
        // Largest first: a big file starts at once, and the small ones flow beside it.
        let order = tree.files.sorted { $0.size != $1.size ? $0.size > $1.size : $0.path < $1.path }
        try forEachInParallel(order, jobs: jobs) { file in
            let sent = try push(file, over: remote[file.path])
            summary.update {
                $0.files += 1
                $0.bytes += sent.size
                if sent.transferred {
                    $0.transferredFiles += 1
                    $0.transferredBytes += sent.size
                }
            }
        }
        return summary.value
    }

    private func push(_ file: LocalTree.File, over remote: DataManifest.Entry?) throws -> (size: Int64, transferred: Bool) {
        let local = try OpenFile(reading: file.absolutePath)
        let info = try local.status()
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DataTransferError.localConflict(path: file.absolutePath, problem: "is no longer a regular file")
        }
        let size = Int64(info.st_size), mode = UInt16(info.st_mode & 0o777)
        events(.started(path: file.path, size: size))
        let digest = try local.sha256(length: size)
        if let remote, remote.size == size, remote.sha256 == digest {
            if remote.mode != mode { try endpoint.setMode(file.path, mode: mode) }
            events(.finished(path: file.path, size: size, transferred: false))
            return (size, false)
        }
        try endpoint.upload(file.path, descriptor: local.descriptor, localName: file.absolutePath, length: size, sha256: digest,
                            mode: mode) { sent in events(.progress(path: file.path, bytes: sent)) }
        events(.finished(path: file.path, size: size, transferred: true))
        return (size, true)
    }
}

/// A value several threads update.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()

    init(_ value: Value) { stored = value }

    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        change(&stored)
        lock.unlock()
    }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
