/// A content descriptor (image-spec descriptor.md): what a blob is, its digest and its size.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(
        mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil,
        platform: Platform? = nil, artifactType: String? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
        self.artifactType = artifactType
    }
}
