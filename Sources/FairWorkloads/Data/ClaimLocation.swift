import FairKube
import Foundation

/// Where in a PersistentVolumeClaim `fair data` reads or writes: `pvc:NAME[:PATH]`, a claim in
/// the command's namespace and a directory in it (its root when PATH is left out). PATH is taken
/// relative to the claim's root whether or not it starts with `/`, and may not leave it.
public struct ClaimLocation: Equatable, Sendable, CustomStringConvertible {
    public var claim: String
    /// Relative to the claim's root, segments joined by `/`, no leading or trailing `/`; empty
    /// for the root.
    public var path: String

    public init(claim: String, path: String = "") {
        self.claim = claim
        self.path = path
    }

    public init(parsing text: String) throws(DataTransferError) {
        let usage = "\(text) is not a claim location: expected pvc:NAME or pvc:NAME:PATH (a PersistentVolumeClaim, and a directory in it)"
        guard text.hasPrefix("pvc:") else { throw .invalidLocation(usage) }
        let rest = text.dropFirst("pvc:".count)
        let name: Substring, path: Substring
        if let colon = rest.firstIndex(of: ":") {
            (name, path) = (rest[..<colon], rest[rest.index(after: colon)...])
        } else {
            (name, path) = (rest, "")
        }
        guard !name.isEmpty else { throw .invalidLocation(usage) }
        guard KubernetesNameRules.isDNSSubdomain(String(name)) else {
            throw .invalidLocation("\(text): \"\(name)\" is not a valid claim name (lower-case letters, digits, '-' and '.')")
        }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            guard segment != ".." else { throw .invalidLocation("\(text): the path \(path) leaves the claim (it has a '..' segment)") }
            guard !segment.contains("\0") else { throw .invalidLocation("\(text): the path has a NUL byte") }
            segments.append(segment)
        }
        claim = String(name)
        self.path = segments.joined(separator: "/")
    }

    public var description: String { path.isEmpty ? "pvc:\(claim)" : "pvc:\(claim):\(path)" }
}
