import FairArchive
import FairSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `fair data pull`: every file the claim's directory holds into a local directory, `jobs` at a
/// time. Each goes to a temporary file beside its target, is checked against the size and SHA-256
/// the pod listed, given the listed mode, and renamed into place: a local file is always either
/// what it was or the whole new one. A file already there with the same content is not fetched
/// again, so a pull that was cut short resumes. Local files the claim does not hold stay.
public struct DataPull {
    public var endpoint: DataPodClient
    public var jobs = 4
    public var events: (DataTransferEvent) -> Void = { _ in }

    public init(endpoint: DataPodClient) {
        self.endpoint = endpoint
    }

    public func run(into directory: String) throws -> DataTransferSummary {
        let manifest = try endpoint.manifest()
        let location = endpoint.pod.location.description
        // Every name is checked before anything is written.
        for entry in manifest.entries {
            if let problem = DataPath.problem(entry.path) { throw DataTransferError.unsafePath(location: location, problem: problem) }
        }
        try Self.makeDirectories(directory)
        events(.planned(files: manifest.entries.count, bytes: manifest.totalBytes))
        let summary = Locked(DataTransferSummary())
        summary.update { $0.skipped = manifest.skipped }
        let order = manifest.entries.sorted { $0.size != $1.size ? $0.size > $1.size : $0.path < $1.path }
        try forEachInParallel(order, jobs: jobs) { entry in
            let transferred = try pull(entry, into: directory)
            summary.update {
                $0.files += 1
                $0.bytes += entry.size
                if transferred {
                    $0.transferredFiles += 1
                    $0.transferredBytes += entry.size
                }
            }
        }
        return summary.value
    }

    private func pull(_ entry: DataManifest.Entry, into directory: String) throws -> Bool {
        let target = "\(directory)/\(entry.path)"
        let parent = String(target[..<target.lastIndex(of: "/")!])
        try Self.makeDirectories(parent)
        events(.started(path: entry.path, size: entry.size))
        var info = stat()
        if lstat(target, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                throw DataTransferError.localConflict(path: target, problem: "is a symbolic link; fair data pull does not replace links")
            case S_IFDIR:
                throw DataTransferError.localConflict(path: target, problem: "is a directory, and the claim holds a file there")
            case S_IFREG where Int64(info.st_size) == entry.size:
                let existing = try OpenFile(reading: target)
                if try existing.sha256(length: entry.size) == entry.sha256 {
                    if UInt16(info.st_mode & 0o777) != entry.mode { try existing.setMode(entry.mode) }
                    events(.finished(path: entry.path, size: entry.size, transferred: false))
                    return false
                }
            default:
                break
            }
        }
        let name = target[target.index(after: target.lastIndex(of: "/")!)...]
        let temporary = "\(parent)/.\(name.prefix(100)).fair-data-\(UInt32.random(in: 0...UInt32.max)).part"
        TemporaryFiles.register(temporary)
        defer { TemporaryFiles.unregister(temporary) }
        do {
            let file = try OpenFile(creating: temporary)
            let sink = DigestingSink(downstream: FileSink(fileDescriptor: file.descriptor, name: temporary))
            try endpoint.download(entry.path, into: sink) { received in events(.progress(path: entry.path, bytes: received)) }
            try sink.finish()
            let location = endpoint.pod.location.description
            guard sink.byteCount == entry.size else {
                throw DataTransferError.mismatch(location: location, file: entry.path,
                                                 detail: "\(sink.byteCount) bytes arrived, the claim listed \(entry.size) (did it change meanwhile? run the command again)")
            }
            guard sink.hexDigest == entry.sha256 else {
                throw DataTransferError.mismatch(location: location, file: entry.path,
                                                 detail: "the bytes that arrived have sha256 \(sink.hexDigest ?? "?"), the claim listed \(entry.sha256) (did it change meanwhile? run the command again)")
            }
            try file.setMode(entry.mode)
            if rename(temporary, target) != 0 { throw ArchiveError.io(path: target, operation: "rename into", errno: errno) }
        } catch {
            unlink(temporary)
            throw error
        }
        events(.finished(path: entry.path, size: entry.size, transferred: true))
        return true
    }

    /// `mkdir -p`, safe to run from several threads at once for the same directories.
    static func makeDirectories(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw DataTransferError.localConflict(path: path, problem: "is a file, and the claim holds a directory there")
            }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { try makeDirectories(String(path[..<slash])) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw ArchiveError.io(path: path, operation: "create directory", errno: errno) }
    }
}
