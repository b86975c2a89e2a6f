import FairArchive
import Foundation

/// Reads an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).
public final class OCILayoutReader: BlobReader {
    public let directory: String
    public var sourceName: String { "oci:\(directory)" }

    public init(directory: String) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OCIError.notAnImage(source: "oci:\(directory)", reason: "no such directory")
        }
        guard FileManager.default.fileExists(atPath: directory + "/oci-layout") else {
            throw OCIError.notAnImage(source: "oci:\(directory)", reason: "no oci-layout file (is this an OCI image layout?)")
        }
    }

    public func blobPath(_ digest: Digest) -> String {
        "\(directory)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    public func rootIndex() throws -> ImageIndex {
        let path = directory + "/index.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OCIError.notAnImage(source: sourceName, reason: "no index.json")
        }
        return try CanonicalJSON.decode(ImageIndex.self, from: Array(data), source: path)
    }

    public func readSmallBlob(_ digest: Digest) throws -> [UInt8] {
        let path = blobPath(digest)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OCIError.blobMissing(source: sourceName, digest: digest.description)
        }
        let bytes = Array(data)
        try verify(bytes, against: digest)
        return bytes
    }

    public func copyBlob(_ digest: Digest, to sink: ByteSink) throws {
        let path = blobPath(digest)
        guard FileManager.default.fileExists(atPath: path) else {
            throw OCIError.blobMissing(source: sourceName, digest: digest.description)
        }
        try ReadableFile(path: path).copy(to: sink)
    }
}
