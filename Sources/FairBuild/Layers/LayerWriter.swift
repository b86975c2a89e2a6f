import FairArchive
import FairOCI
import FairRegistry
import Foundation

/// Writes a set of entries as a reproducible layer: entries sorted by path, every parent directory
/// written explicitly, one fixed mtime, and no atime, ctime, xattrs or user/group names. The tar
/// stream is hashed (diff_id), compressed on every core, hashed again (digest) and written to disk
/// in one pass, so a layer of any size is built in bounded memory.
public struct LayerWriter {
    public var compression: CompressionAlgorithm
    public var level: Int
    public var workers: Int
    public var mtime: Int64

    public init(compression: CompressionAlgorithm, level: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount, mtime: Int64) {
        self.compression = compression
        self.level = level
        self.workers = max(1, workers)
        self.mtime = mtime
    }

    public var mediaType: String {
        compression == .gzip ? MediaType.layerTarGzip : MediaType.layerTarZstd
    }

    /// Writes the layer to `path` (which must not be read until this returns, except by
    /// `upload`, which is told how far the file has grown and sends it meanwhile).
    public func write(_ entries: [LayerEntry], to path: String, upload: StreamedBlobUpload? = nil) throws -> BuiltLayer {
        let file = try FileSink(path: path)
        upload?.opened(path: path)
        do {
            let observed: ByteSink = upload.map { GrowthReportingSink(downstream: file, upload: $0) } ?? file
            let compressed = DigestingSink(downstream: observed)
            let compressor = try compression.makeCompressor(level: level, workers: workers, downstream: compressed)
            let uncompressed = DigestingSink(downstream: compressor)
            let tar = try TarWriter(sink: uncompressed)
            for entry in Self.ordered(entries) {
                try write(entry, to: tar)
            }
            try tar.finish()
            let layer = BuiltLayer(
                digest: .sha256(hex: compressed.hexDigest!),
                diffID: .sha256(hex: uncompressed.hexDigest!),
                size: compressed.byteCount,
                mediaType: mediaType,
                path: path)
            upload?.finished(digest: layer.digest, size: layer.size)
            return layer
        } catch {
            upload?.abandon()
            throw error
        }
    }

    /// Sorts entries by path bytes and adds any missing parent directories, so the tar never
    /// depends on walk order and never relies on an extractor to invent directories.
    static func ordered(_ entries: [LayerEntry]) -> [LayerEntry] {
        var byPath: [String: LayerEntry] = [:]
        for entry in entries { byPath[entry.path] = entry }
        for entry in entries {
            var parent = parentPath(entry.path)
            while let directory = parent, byPath[directory] == nil {
                byPath[directory] = LayerEntry(path: directory, content: .directory, mode: 0o755)
                parent = parentPath(directory)
            }
        }
        return byPath.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// "a/b/c" → "a/b"; nil for a top-level path.
    static func parentPath(_ path: String) -> String? {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
        return String(path[..<slash])
    }

    private func write(_ entry: LayerEntry, to tar: TarWriter) throws {
        var header = TarEntry(path: entry.path, kind: .directory, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: mtime)
        switch entry.content {
        case .directory:
            header.path += "/"
            try tar.writeHeader(header)
        case let .symlink(target):
            header.kind = .symlink(target: target)
            try tar.writeHeader(header)
        case let .hardlink(target):
            header.kind = .hardlink(target: target)
            try tar.writeHeader(header)
        case let .bytes(bytes):
            header.kind = .file(size: Int64(bytes.count))
            try tar.writeFile(header, contents: bytes)
        case let .file(sourcePath, size):
            header.kind = .file(size: size)
            try tar.writeFile(header, contentsOf: sourcePath)
        }
    }
}

/// A layer written to disk, with both of its digests.
public struct BuiltLayer: Sendable, Codable, Equatable {
    public var digest: Digest
    public var diffID: Digest
    public var size: Int64
    public var mediaType: String
    public var path: String
}

/// Passes bytes on to the layer's file, then tells the streamed upload how far the file has grown.
private final class GrowthReportingSink: ByteSink {
    private let downstream: ByteSink
    private let upload: StreamedBlobUpload
    private var total: Int64 = 0

    init(downstream: ByteSink, upload: StreamedBlobUpload) {
        self.downstream = downstream
        self.upload = upload
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try downstream.write(bytes)
        total += Int64(bytes.count)
        upload.grew(to: total)
    }

    func finish() throws { try downstream.finish() }
}
