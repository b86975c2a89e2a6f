import FairArchive

/// Reads an oci-archive: a tar of an OCI image layout. The tar is scanned sequentially (libarchive
/// seeks over data it skips), so large layers are streamed straight out of the archive.
public final class OCIArchiveReader: BlobReader {
    public let path: String
    public var sourceName: String { "oci-archive:\(path)" }

    public init(path: String) throws {
        self.path = path
        // Fail early, with a message about the archive, if it is not a tar holding an OCI layout.
        var sawLayout = false
        var sawIndex = false
        do {
            let reader = try TarReader(path: path)
            while let entry = try reader.next() {
                let name = Self.normalise(entry.path)
                if name == "oci-layout" { sawLayout = true }
                if name == "index.json" { sawIndex = true }
                if sawLayout && sawIndex { break }
            }
        } catch let error as ArchiveError {
            throw OCIError.notAnImage(source: "oci-archive:\(path)", reason: error.description)
        }
        guard sawIndex else {
            throw OCIError.notAnImage(source: sourceName, reason: "the archive has no index.json (is it an oci-archive?)")
        }
        guard sawLayout else {
            throw OCIError.notAnImage(source: sourceName, reason: "the archive has no oci-layout file")
        }
    }

    static func normalise(_ name: String) -> String {
        var name = Substring(name)
        while name.hasPrefix("./") { name = name.dropFirst(2) }
        while name.hasPrefix("/") { name = name.dropFirst() }
        return String(name)
    }

    /// Positions a reader on `entryName` and hands it to `body`.
    private func withEntry<T>(_ entryName: String, missing: () -> Error, _ body: (TarReader) throws -> T) throws -> T {
        let reader = try TarReader(path: path)
        while let entry = try reader.next() {
            if Self.normalise(entry.path) == entryName, case .file = entry.kind {
                return try body(reader)
            }
        }
        throw missing()
    }

    public func rootIndex() throws -> ImageIndex {
        let bytes = try withEntry("index.json", missing: {
            OCIError.notAnImage(source: sourceName, reason: "no index.json")
        }) { try $0.readSmallData() }
        return try CanonicalJSON.decode(ImageIndex.self, from: bytes, source: "\(sourceName) index.json")
    }

    public func readSmallBlob(_ digest: Digest) throws -> [UInt8] {
        let bytes = try withEntry("blobs/\(digest.algorithm)/\(digest.encoded)", missing: {
            OCIError.blobMissing(source: sourceName, digest: digest.description)
        }) { try $0.readSmallData() }
        try verify(bytes, against: digest)
        return bytes
    }

    public func copyBlob(_ digest: Digest, to sink: ByteSink) throws {
        try withEntry("blobs/\(digest.algorithm)/\(digest.encoded)", missing: {
            OCIError.blobMissing(source: sourceName, digest: digest.description)
        }) { try $0.readData(into: sink) }
    }
}
