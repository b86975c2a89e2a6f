/// Media types from the OCI image-spec, plus the Docker schema-2 ones that real bases still use.
public enum MediaType {
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let imageConfig = "application/vnd.oci.image.config.v1+json"
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let layerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let layerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    public static func isManifest(_ type: String?) -> Bool {
        type == imageManifest || type == dockerManifest
    }

    public static func isIndex(_ type: String?) -> Bool {
        type == imageIndex || type == dockerManifestList
    }

    /// The OCI name for a layer media type: Docker's gzip layer is the same bytes as OCI's.
    public static func ociLayerType(_ type: String) -> String {
        type == dockerLayerGzip ? layerTarGzip : type
    }

    public static let layerTypes: Set<String> = [layerTar, layerTarGzip, layerTarZstd, dockerLayerGzip]
}

/// Annotation keys fair reads and writes.
public enum AnnotationKey {
    public static let refName = "org.opencontainers.image.ref.name"
    public static let created = "org.opencontainers.image.created"
    public static let title = "org.opencontainers.image.title"
    public static let source = "org.opencontainers.image.source"
    public static let baseName = "org.opencontainers.image.base.name"
    public static let baseDigest = "org.opencontainers.image.base.digest"
}
