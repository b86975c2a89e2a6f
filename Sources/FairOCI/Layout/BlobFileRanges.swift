import Foundation

/// A blob's bytes as a range of a file on disk: a blob file of a layout, or an entry of an
/// uncompressed oci-archive. Uploads stream from it directly, without copying the blob out first.
public struct BlobFileRange: Sendable, Equatable {
    public var path: String
    public var offset: Int64
    public var length: Int64

    public init(path: String, offset: Int64, length: Int64) {
        self.path = path
        self.offset = offset
        self.length = length
    }
}

/// Sources that can say where a blob's bytes are on disk.
public protocol BlobFileRanges {
    func fileRange(of digest: Digest) -> BlobFileRange?
}

extension OCILayoutReader: BlobFileRanges {
    public func fileRange(of digest: Digest) -> BlobFileRange? {
        let path = blobPath(digest)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.int64Value else { return nil }
        return BlobFileRange(path: path, offset: 0, length: size)
    }
}
