import FairArchive

/// Where a blob's bytes come from when an image is written out.
public enum BlobContent {
    case bytes([UInt8])
    /// A file on disk, e.g. a freshly built layer or a cached one.
    case file(path: String)
    /// A byte range of a file: a blob file of a layout, or an entry of an uncompressed oci-archive.
    case fileRange(BlobFileRange)
    /// Bytes streamed by a closure, e.g. a base layer read straight out of a compressed archive.
    case stream((ByteSink) throws -> Void)
    /// A blob in a registry repository. A push to the same registry HEADs or mounts it and never
    /// downloads it; anything else fetches it through `fetch`.
    case remote(RemoteBlob)
}

public struct RemoteBlob {
    public var host: String
    public var repository: String
    public var fetch: (ByteSink) throws -> Void

    public init(host: String, repository: String, fetch: @escaping (ByteSink) throws -> Void) {
        self.host = host
        self.repository = repository
        self.fetch = fetch
    }
}

public struct BlobToWrite {
    public var digest: Digest
    public var size: Int64
    public var content: BlobContent
    /// Whether to hash the bytes again while copying: on for anything fair did not just produce.
    public var verify: Bool

    public init(digest: Digest, size: Int64, content: BlobContent, verify: Bool) {
        self.digest = digest
        self.size = size
        self.content = content
        self.verify = verify
    }
}

/// An image ready to be written to a layout or an archive: its manifest descriptor (carrying the
/// tag as `org.opencontainers.image.ref.name`) and every blob it needs, manifest and config included.
public struct ImageToWrite {
    public var manifest: Descriptor
    public var blobs: [BlobToWrite]

    public init(manifest: Descriptor, blobs: [BlobToWrite]) {
        self.manifest = manifest
        self.blobs = blobs
    }

    /// Blobs ordered by digest, each once: the order of an archive must not depend on how it was built.
    public var uniqueBlobsByDigest: [BlobToWrite] {
        var seen = Set<Digest>()
        return blobs.sorted { $0.digest < $1.digest }.filter { seen.insert($0.digest).inserted }
    }
}

/// Sends a blob's bytes to `sink`, checking the byte count (and, when asked, the digest) on the way.
func copyBlob(_ blob: BlobToWrite, to sink: ByteSink, name: String) throws {
    let counter = DigestingSink(downstream: NonFinishingSink(sink))
    switch blob.content {
    case let .bytes(bytes): try counter.write(bytes)
    case let .file(path): try ReadableFile(path: path).copy(to: counter)
    case let .fileRange(range):
        let file = try ReadableFile(path: range.path)
        try file.seek(to: range.offset)
        try file.copy(length: range.length, to: counter)
    case let .stream(produce): try produce(counter)
    case let .remote(remote): try remote.fetch(counter)
    }
    try counter.finish()
    if counter.byteCount != blob.size {
        throw OCIError.notAnImage(
            source: name, reason: "blob \(blob.digest) has \(counter.byteCount) bytes, its descriptor says \(blob.size)")
    }
    if blob.verify && blob.digest.algorithm == "sha256" && "sha256:\(counter.hexDigest!)" != blob.digest.description {
        throw OCIError.digestMismatch(source: name, expected: blob.digest.description, actual: "sha256:\(counter.hexDigest!)")
    }
}

/// Forwards bytes but not `finish`, so a stage can write into a stream it does not own.
public final class NonFinishingSink: ByteSink {
    private let downstream: ByteSink
    public init(_ downstream: ByteSink) { self.downstream = downstream }
    public func write(_ bytes: UnsafeRawBufferPointer) throws { try downstream.write(bytes) }
    public func finish() throws {}
}

/// The fixed `oci-layout` file content.
let ociLayoutFileBytes = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
