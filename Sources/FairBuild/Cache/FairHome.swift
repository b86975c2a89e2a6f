import FairRegistry
import Foundation

/// fair's local state: `$FAIR_HOME`, or `~/.cache/fair`. Holds a content-addressed blob store
/// (shared by the builder and, later, registry pulls), the deps-layer cache index, the default
/// local image layout, and scratch space for builds.
public struct FairHome: Sendable {
    public let root: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let configured = environment["FAIR_HOME"], !configured.isEmpty {
            root = URL(fileURLWithPath: configured).standardizedFileURL.path
        } else {
            let home = environment["HOME"] ?? NSHomeDirectory()
            let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.cache"
            root = "\(cache)/fair"
        }
    }

    public var blobs: String { "\(root)/blobs/sha256" }
    public var layerCache: String { "\(root)/layers" }
    public var images: String { "\(root)/images" }
    public var temporary: String { "\(root)/tmp" }

    public func blobPath(hex: String) -> String { "\(blobs)/\(hex)" }

    /// The content store registry pulls fill and builds read.
    public var blobStore: BlobStore { BlobStore(directory: blobs) }

    /// Creates a fresh private directory for one build's intermediate files.
    public func makeScratchDirectory(prefix: String) throws -> String {
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let path = "\(temporary)/\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }
}
