import FairOCI
import Foundation

/// One stored version of a trained model: an OCI 1.1 artifact (`artifactType`
/// `application/vnd.fair.model.v1`, an empty config, one tar+gzip layer of the model directory),
/// tagged `models/NAME:vN` and, for the newest, `:latest`.
public struct ModelVersion: Sendable, Equatable {
    public static let artifactType = "application/vnd.fair.model.v1"
    public static let metricsAnnotation = "dev.fair.model.metrics"

    public var name: String
    /// `vN`, or the tag or digest asked for when no `vN` tag names the same manifest.
    public var version: String
    public var digest: Digest
    public var layer: Digest
    public var size: Int64
    public var annotations: [String: String]

    public var repository: String { "models/\(name)" }
    public var created: String? { annotations["org.opencontainers.image.created"] }
    public var job: String? { annotations["dev.fair.job"] }
    public var image: String? { annotations["dev.fair.image"] }
    /// `metrics.json` as the training script wrote it.
    public var metrics: String? { annotations[Self.metricsAnnotation] }
    /// Set on a failed run's outputs (stored under `failed-JOB`, never a version): why it failed.
    public var failure: String? { annotations[Self.failureAnnotation] }
    public static let failureAnnotation = "dev.fair.model.failed"

    /// Reads a manifest; refuses anything that is not a fair model.
    static func decode(name: String, version: String, digest: Digest, manifest bytes: [UInt8], source: String) throws -> ModelVersion {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw RegistryError.protocolViolation("\(source): the manifest is not JSON")
        }
        let artifactType = object["artifactType"] as? String ?? (object["config"] as? [String: Any])?["mediaType"] as? String ?? "(none)"
        guard artifactType == Self.artifactType else {
            throw RegistryError.unsupported("\(source) is not a fair model (artifactType \(artifactType), expected \(Self.artifactType))")
        }
        guard let layers = object["layers"] as? [[String: Any]], layers.count == 1,
              let layerDigest = layers[0]["digest"] as? String, let size = layers[0]["size"] as? NSNumber else {
            throw RegistryError.protocolViolation("\(source): a fair model has exactly one layer")
        }
        return ModelVersion(name: name, version: version, digest: digest, layer: try Digest(parsing: layerDigest),
                            size: size.int64Value, annotations: object["annotations"] as? [String: String] ?? [:])
    }

}
