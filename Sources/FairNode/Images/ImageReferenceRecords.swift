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
        /// Set when a pod's own credentials pulled it: their fingerprint (see `ImageStore`).
        var pulledWith: String?
    }

    /// The digest `reference` (normalised, e.g. `docker.io/library/busybox:1.36`) last resolved
    /// to, and the fingerprint of the pod credentials that resolved it (nil: the node's own).
    func entry(for reference: String) -> (digest: Digest, pulledWith: String?)? {
        guard let data = FileManager.default.contents(atPath: path(reference)),
              let record = try? JSONDecoder().decode(Record.self, from: data),
              record.reference == reference,
              let digest = try? Digest(parsing: record.digest)
        else { return nil }
        return (digest, record.pulledWith)
    }

    func digest(for reference: String) -> Digest? { entry(for: reference)?.digest }

    func record(_ reference: String, digest: Digest, pulledWith: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bytes = try CanonicalJSON.encode(Record(reference: reference, digest: digest.description, pulledWith: pulledWith))
        try AtomicFile.write(to: path(reference), bytes: bytes)
    }

    private func path(_ reference: String) -> String {
        "\(directory)/\(Digest.sha256(of: Array(reference.utf8)).encoded).json"
    }
}
