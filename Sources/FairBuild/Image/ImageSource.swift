import FairArchive
import FairOCI

/// Where a base image comes from. `scratch`, an OCI layout and an oci-archive are local sources; a
/// registry source only has to implement this protocol to become a base for builds too.
public protocol ImageSource: AnyObject {
    /// The reference as the user wrote it, for labels, annotations and messages.
    var reference: String { get }
    /// The base image for `platform`; nil for `scratch` (no layers, empty config).
    func resolve(platform: Platform) throws -> ResolvedImage?
    /// How to get a base layer's bytes when an output needs them; sources that can avoid
    /// fetching layers (a registry the image is pushed back to) simply never get asked.
    func layerContent(_ layer: Descriptor) -> BlobContent
}

public final class ScratchSource: ImageSource {
    public let reference = "scratch"
    public init() {}
    public func resolve(platform: Platform) throws -> ResolvedImage? { nil }
    public func layerContent(_ layer: Descriptor) -> BlobContent { .bytes([]) }
}

/// A base image read from a local OCI layout directory or oci-archive.
public final class LocalImageSource: ImageSource {
    public let reference: String
    private let reader: BlobReader
    private let tag: String?

    public init(reference: String, reader: BlobReader, tag: String?) {
        self.reference = reference
        self.reader = reader
        self.tag = tag
    }

    public func resolve(platform: Platform) throws -> ResolvedImage? {
        try reader.resolveImage(tag: tag, platform: platform)
    }

    public func layerContent(_ layer: Descriptor) -> BlobContent {
        if let ranges = reader as? BlobFileRanges, let range = ranges.fileRange(of: layer.digest) {
            return .fileRange(range)
        }
        let reader = self.reader
        return .stream { sink in try reader.copyBlob(layer.digest, to: sink) }
    }
}
