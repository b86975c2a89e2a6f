import FairOCI
import Foundation

/// Which repositories of a registry are known to hold a blob, from this machine's own pushes and
/// pulls: what lets a push to a second repository mount a blob instead of sending it again, as
/// docker's blob-to-repository cache does. One small file per (registry, blob), beside the blob
/// store; a stale entry costs one declined mount, never a wrong image (the registry checks).
public struct BlobLocations: Sendable {
    public let directory: String
    /// Repositories remembered per blob (the most recent ones).
    static let remembered = 5

    public init(store: BlobStore) {
        directory = (store.directory as NSString).deletingLastPathComponent + "/blob-locations"
    }

    public init(directory: String) {
        self.directory = directory
    }

    /// Repositories of `host` known to hold the blob, most recent first.
    public func repositories(holding digest: Digest, on host: String) -> [String] {
        guard let text = try? String(contentsOfFile: file(digest, host), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).reversed()
    }

    /// Remembers that `repository` of `host` holds the blob. Best effort: a failure to write only
    /// means a later push uploads instead of mounting.
    public func record(_ digest: Digest, on host: String, repository: String) {
        var known = repositories(holding: digest, on: host).reversed().filter { $0 != repository }
        known.append(repository)
        let kept = known.suffix(Self.remembered)
        let path = file(digest, host)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func file(_ digest: Digest, _ host: String) -> String {
        let safeHost = host.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? String($0) : "_" }.joined()
        return "\(directory)/\(safeHost)/\(digest.encoded)"
    }
}
