import FairArchive
import FairOCI
import Foundation

/// Everything `fair build` was asked to do.
public struct BuildOptions: Sendable {
    public var projectDirectory: String
    /// fair.yaml path; defaults to `<project>/fair.yaml`, and without one the project is inferred.
    public var configFile: String?
    /// The script or notebook to run, overriding fair.yaml's `entrypoint` (`fair build train.py`).
    public var entrypoint: String?
    /// Overrides `base:` in fair.yaml; relative paths are relative to the current directory.
    public var base: String?
    /// `NAME[:TAG]`; defaults to `<name>:latest`.
    public var tag: String?
    public var outputArchive: String?
    public var layoutDirectory: String?
    /// Registry reference to push the built image to (`--push`).
    public var push: String?
    public var compression: CompressionAlgorithm = .gzip
    public var level: Int?
    /// Layer mtime and config `created`: SOURCE_DATE_EPOCH, or a fixed default.
    public var epoch: Int64 = BuildOptions.defaultEpoch
    public var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    public var currentDirectory: String = FileManager.default.currentDirectoryPath
    /// A layer and program fair adds after the project's layers (`fair serve`'s model server).
    public var addition: ImageAddition?
    /// Requirements installed in the deps layer besides the project's own.
    public var extraRequirements: [String] = []
    /// With `push`: send each layer built now while it is being written (`StreamedBlobUpload`)
    /// rather than after the build.
    public var streamsLayers = true

    /// 1980-01-01T00:00:00Z: fixed, and the earliest time a ZIP file (and so Python's zipimport
    /// and wheel tooling) can represent.
    public static let defaultEpoch: Int64 = 315_532_800

    public init(projectDirectory: String) {
        self.projectDirectory = projectDirectory
    }

    /// SOURCE_DATE_EPOCH when set (reproducible-builds.org convention), else the default.
    public static func epoch(from environment: [String: String]) throws -> Int64 {
        guard let value = environment["SOURCE_DATE_EPOCH"], !value.isEmpty else { return defaultEpoch }
        guard let seconds = Int64(value), seconds >= 0 else {
            throw BuildError.invalidOption(option: "SOURCE_DATE_EPOCH", message: "expected seconds since 1970, got \"\(value)\"")
        }
        return seconds
    }
}
