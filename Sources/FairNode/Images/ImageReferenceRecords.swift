import FairArchive
import FairOCI
import Foundation

/// Which manifest digest each reference (tag or digest) last resolved to on this node, so that
/// IfNotPresent and Never can answer without the registry. One small file per reference, named by
/// the hash of the reference (references contain `/` and `:`), replaced atomically.
struct ImageReferenceRecords {
    let directory: String

    private struct Record: Codable {
        var reference: String
        var digest: String
    }

    /// The digest `reference` (normalised, e.g. `docker.io/library/busybox:1.36`) last resolved to.
    func digest(for reference: String) -> Digest? {
        guard let data = FileManager.default.contents(atPath: path(reference)),
              let record = try? JSONDecoder().decode(Record.self, from: data),
              record.reference == reference
        else { return nil }
        return try? Digest(parsing: record.digest)
    }

    func record(_ reference: String, digest: Digest) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bytes = try CanonicalJSON.encode(Record(reference: reference, digest: digest.description))
        try AtomicFile.write(to: path(reference), bytes: bytes)
    }

    private func path(_ reference: String) -> String {
        "\(directory)/\(Digest.sha256(of: Array(reference.utf8)).encoded).json"
    }
}
