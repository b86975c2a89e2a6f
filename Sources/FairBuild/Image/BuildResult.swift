import FairOCI
import FairRegistry

/// What a build produced, as printed by `fair build --output-format json`.
public struct BuildResult: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var digest: Digest
        public var diffID: Digest
        public var size: Int64
        public var mediaType: String
        /// `base`, `deps`, a layer of fair.yaml's `layers:` (by default `assets`), `code`, or
        /// what `fair serve` and `fair train` add.
        public var source: String
        /// True when the layer was taken from the cache instead of being built.
        public var cached: Bool
        /// How many of the project's files the layer holds (its own layers only).
        public var files: Int?
    }

    public struct Outputs: Codable, Sendable {
        public var archive: String?
        public var layout: String?

        public init(archive: String?, layout: String?) {
            self.archive = archive
            self.layout = layout
        }
    }

    public var digest: Digest
    public var tag: String
    public var mediaType: String
    public var size: Int64
    public var config: Digest
    public var base: String
    public var platform: String
    public var layers: [Layer]
    public var outputs: Outputs
    /// What `--push` did: the pushed reference with its digest, and each blob's fate.
    public var push: ImagePusher.Report?
    public var warnings: [String]
    /// The image's PYTHONPATH (nil when it sets none): a pod that adds a directory to it must
    /// keep what the image put there (the deps layer's site-packages).
    public var pythonPath: String?
    /// What the image runs: its Entrypoint then its Cmd, for a manifest that must run it
    /// inside a command of its own (`fair train --operator` stores the model after it).
    public var command: [String] = []
}
