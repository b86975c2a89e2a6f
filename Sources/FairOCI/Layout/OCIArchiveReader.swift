import FairArchive

/// Reads an oci-archive: a tar of an OCI image layout. A plain tar is indexed once, so every blob
/// is read (or uploaded) straight from its byte range in the archive; a compressed tar is scanned
/// sequentially with libarchive instead.
public final class OCIArchiveReader: BlobReader, BlobFileRanges {
    public let path: String
    public var sourceName: String { "oci-archive:\(path)" }
    private let index: TarIndex?

    public init(path: String) throws {
        self.path = path
        index = try? TarIndex.scan(path: path)
        var sawLayout = false
        var sawIndex = false
        if let index {
            sawLayout = index.files["oci-layout"] != nil
            sawIndex = index.files["index.json"] != nil
        } else {
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

    private static func blobName(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.encoded)" }

    public func fileRange(of digest: Digest) -> BlobFileRange? {
        guard let range = index?.files[Self.blobName(digest)] else { return nil }
        return BlobFileRange(path: path, offset: range.offset, length: range.size)
    }

    /// Streams the entry `name` into `sink`, from its byte range when indexed.
    private func copyEntry(_ name: String, to sink: ByteSink, missing: () -> Error) throws {
        if let index {
            guard let range = index.files[name] else { throw missing() }
            let file = try ReadableFile(path: path)
            try file.seek(to: range.offset)
            try file.copy(length: range.size, to: sink)
            return
        }
        let reader = try TarReader(path: path)
        while let entry = try reader.next() {
            if Self.normalise(entry.path) == name, case .file = entry.kind {
                try reader.readData(into: sink)
                return
            }
        }
        throw missing()
    }

    private func readSmall(_ name: String, missing: () -> Error) throws -> [UInt8] {
        let collector = CollectingSink(limit: 8 << 20, name: "\(sourceName) \(name)")
        try copyEntry(name, to: collector, missing: missing)
        return collector.bytes
    }

    public func rootIndex() throws -> ImageIndex {
        let bytes = try readSmall("index.json") { OCIError.notAnImage(source: sourceName, reason: "no index.json") }
        return try CanonicalJSON.decode(ImageIndex.self, from: bytes, source: "\(sourceName) index.json")
    }

    public func readSmallBlob(_ digest: Digest) throws -> [UInt8] {
        let bytes = try readSmall(Self.blobName(digest)) { OCIError.blobMissing(source: sourceName, digest: digest.description) }
        try verify(bytes, against: digest)
        return bytes
    }

    public func copyBlob(_ digest: Digest, to sink: ByteSink) throws {
        try copyEntry(Self.blobName(digest), to: sink) { OCIError.blobMissing(source: sourceName, digest: digest.description) }
    }
}
