/// An image manifest (image-spec manifest.md). Also decodes Docker schema-2 manifests, which share the shape.
public struct ImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String? = MediaType.imageManifest
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index (image-spec image-index.md); `index.json` of an OCI layout is one too.
public struct ImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String? = MediaType.imageIndex
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.manifests = manifests
        self.annotations = annotations
    }
}
