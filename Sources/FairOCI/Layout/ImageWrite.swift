import FairArchive

/// Where a blob's bytes come from when an image is written out.
public enum BlobContent {
    case bytes([UInt8])
    /// A file on disk, e.g. a freshly built layer or a cached one.
    case file(path: String)
    /// Bytes streamed by a closure, e.g. a base layer read straight out of another archive.
    case stream((ByteSink) throws -> Void)
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
    var uniqueBlobsByDigest: [BlobToWrite] {
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
    case let .stream(produce): try produce(counter)
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
