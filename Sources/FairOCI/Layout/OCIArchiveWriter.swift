import FairArchive

/// Writes an image as an oci-archive: a tar of an OCI image layout with `oci-layout` and
/// `index.json` first, then every blob in digest order. Entries carry fixed owners, modes and
/// mtime, so the same image always gives the same archive bytes.
public enum OCIArchiveWriter {
    /// Writes the archive to a temporary file beside `path` and renames it into place, so an
    /// interrupted or failed write never leaves a partial archive at `path`.
    public static func write(_ image: ImageToWrite, to path: String, mtime: Int64) throws {
        try AtomicFile.write(to: path) { temporaryPath in
            let tar = try TarWriter(sink: try FileSink(path: temporaryPath))
            let index = ImageIndex(manifests: [image.manifest])
            try tar.writeFile(file("oci-layout", mtime), contents: ociLayoutFileBytes)
            try tar.writeFile(file("index.json", mtime), contents: try CanonicalJSON.encode(index))
            try tar.writeHeader(TarEntry(path: "blobs/", kind: .directory, mode: 0o755, mtime: mtime))
            try tar.writeHeader(TarEntry(path: "blobs/sha256/", kind: .directory, mode: 0o755, mtime: mtime))
            for blob in image.uniqueBlobsByDigest {
                var entry = file("blobs/\(blob.digest.algorithm)/\(blob.digest.encoded)", mtime)
                entry.kind = .file(size: blob.size)
                try tar.writeHeader(entry)
                try copyBlob(blob, to: TarDataSink(tar), name: "oci-archive:\(path)")
            }
            try tar.finish()
        }
    }

    private static func file(_ path: String, _ mtime: Int64) -> TarEntry {
        TarEntry(path: path, kind: .file(size: 0), mode: 0o644, mtime: mtime)
    }
}

/// Feeds a stream into the data of the tar entry whose header was just written.
final class TarDataSink: ByteSink {
    private let tar: TarWriter
    init(_ tar: TarWriter) { self.tar = tar }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try tar.writeData(bytes) }
    func finish() throws {}
}
