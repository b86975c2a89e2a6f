/// An image reference in a registry: `[HOST[:PORT]/]REPOSITORY[:TAG][@DIGEST]`, read the way
/// docker reads it (a first component with a `.` or `:`, or `localhost`, is a host; otherwise the
/// image is on Docker Hub, under `library/` when it has one component).
public struct RegistryReference: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var repository: String
    public var tag: String?
    public var digest: String?

    public static let dockerHub = "docker.io"

    public init(host: String, repository: String, tag: String? = nil, digest: String? = nil) {
        self.host = host
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public init(parsing text: String) throws {
        var rest = Substring(text)
        if rest.hasPrefix("docker://") { rest = rest.dropFirst("docker://".count) }
        guard !rest.isEmpty else { throw RegistryError.invalidReference(text, "empty reference") }

        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
            guard let value = digest, value.hasPrefix("sha256:"), value.count == 71,
                  value.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw RegistryError.invalidReference(text, "digest must be sha256:<64 lowercase hex digits>")
            }
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var host = Self.dockerHub
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.hasPrefix("[") {
            host = first
            components.removeFirst()
        }
        var tag: String?
        if let last = components.last, let colon = last.lastIndex(of: ":") {
            tag = String(last[last.index(after: colon)...])
            components[components.count - 1] = String(last[..<colon])
        }
        if host == Self.dockerHub && components.count == 1 { components.insert("library", at: 0) }
        let repository = components.joined(separator: "/")

        let componentCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        for component in components {
            guard !component.isEmpty, component.allSatisfy({ componentCharacters.contains($0) }),
                  let first = component.first, first.isLetter || first.isNumber else {
                throw RegistryError.invalidReference(
                    text, "invalid repository name \"\(repository)\": use lowercase letters, digits and . _ - between slashes")
            }
        }
        if let tag {
            let tagCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
            guard !tag.isEmpty, tag.count <= 128, tag.allSatisfy({ tagCharacters.contains($0) }), tag.first != "." && tag.first != "-" else {
                throw RegistryError.invalidReference(text, "invalid tag \"\(tag)\"")
            }
        }
        self.init(host: host, repository: repository, tag: tag, digest: digest)
    }

    /// The tag or digest to address the manifest by (digest wins; `latest` when neither is given).
    public var manifestReference: String { digest ?? tag ?? "latest" }

    /// Where the registry API actually lives (Docker Hub's API host is not docker.io).
    public var apiHost: String { host == Self.dockerHub ? "registry-1.docker.io" : host }

    public var description: String {
        var text = "\(host)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    public func withDigest(_ digest: String) -> RegistryReference {
        RegistryReference(host: host, repository: repository, tag: tag, digest: digest)
    }
}
