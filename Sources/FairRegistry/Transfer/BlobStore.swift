import FairArchive
import FairOCI
import Foundation

/// A content-addressed store of blobs (`<root>/<hex>`), shared by pulls and builds. A blob only
/// ever appears there complete and verified, through a rename.
public struct BlobStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func path(_ digest: Digest) -> String { "\(directory)/\(digest.encoded)" }

    public func existingPath(_ digest: Digest) -> String? {
        FileManager.default.fileExists(atPath: path(digest)) ? path(digest) : nil
    }

    /// Runs `produce` on a temporary path and moves the result into place when it succeeds.
    public func ingest(_ digest: Digest, _ produce: (String) throws -> Void) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let destination = path(digest)
        try AtomicFile.write(to: destination, produce)
        return destination
    }
}
