import FairArchive

/// Somewhere blobs can be read from by digest: an OCI layout directory, an oci-archive, and
/// (with the registry client) a registry. Small JSON blobs come back verified; large blobs stream.
public protocol BlobReader: AnyObject {
    /// How to name this source in messages, e.g. `oci-archive:base.tar`.
    var sourceName: String { get }
    /// The top-level index (`index.json` of a layout).
    func rootIndex() throws -> ImageIndex
    /// A small blob (manifest, config) read whole and checked against its digest.
    func readSmallBlob(_ digest: Digest) throws -> [UInt8]
    /// Streams a blob into `sink` (without finishing it).
    func copyBlob(_ digest: Digest, to sink: ByteSink) throws
}

extension BlobReader {
    func verify(_ bytes: [UInt8], against digest: Digest) throws {
        guard digest.algorithm == "sha256" else { return }
        let actual = Digest.sha256(of: bytes)
        if actual != digest {
            throw OCIError.digestMismatch(source: sourceName, expected: digest.description, actual: actual.description)
        }
    }
}
