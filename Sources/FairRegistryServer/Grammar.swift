import Foundation

/// The distribution-spec grammar for repository names, tags and upload session ids.
enum Grammar {
    /// `name := component ('/' component)*`, `component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*`,
    /// at most 255 characters in all.
    static func isRepositoryName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { isComponent($0.utf8) }
    }

    static func isComponent<S: Collection>(_ text: S) -> Bool where S.Element == UInt8 {
        let bytes = Array(text)
        var index = 0
        while true {
            // A run of lowercase letters and digits…
            guard index < bytes.count, isAlphanumeric(bytes[index]) else { return false }
            while index < bytes.count && isAlphanumeric(bytes[index]) { index += 1 }
            if index == bytes.count { return true }
            // …then one separator, which must be followed by another run.
            switch bytes[index] {
            case UInt8(ascii: "."):
                index += 1
            case UInt8(ascii: "_"):
                index += 1
                if index < bytes.count && bytes[index] == UInt8(ascii: "_") { index += 1 }
            case UInt8(ascii: "-"):
                while index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
            default:
                return false
            }
        }
    }

    /// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`
    static func isTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128 else { return false }
        guard isWordCharacter(first) else { return false }
        return bytes.dropFirst().allSatisfy { isWordCharacter($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// Upload ids are lowercase UUIDs this registry made; anything else is refused before it can name a path.
    static func isUploadID(_ id: String) -> Bool {
        id.utf8.count == 36 && id.utf8.allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isWordCharacter(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}

/// Where a `/v2` request goes.
enum Route: Equatable {
    case base
    case catalog
    case tags(name: String)
    case manifest(name: String, reference: String)
    case blob(name: String, digest: String)
    case startUpload(name: String)
    case upload(name: String, id: String)

    /// Parses a request path (without query); nil when it is no endpoint of the API. Names are
    /// not validated here: the name is everything before the endpoint's fixed components.
    init?(path: String) {
        guard path == "/v2" || path.hasPrefix("/v2/") else { return nil }
        let rest = path.dropFirst(path == "/v2" ? 3 : 4)
        if rest.isEmpty { self = .base; return }
        if rest == "_catalog" { self = .catalog; return }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncodingIfValid
        }
        let count = parts.count
        func name(dropping last: Int) -> String { parts[0..<(count - last)].joined(separator: "/") }
        if count >= 3 && parts[count - 2] == "tags" && parts[count - 1] == "list" {
            self = .tags(name: name(dropping: 2))
        } else if count >= 3 && parts[count - 2] == "manifests" {
            self = .manifest(name: name(dropping: 2), reference: parts[count - 1])
        } else if count >= 4 && parts[count - 3] == "blobs" && parts[count - 2] == "uploads" {
            self = parts[count - 1].isEmpty ? .startUpload(name: name(dropping: 3)) : .upload(name: name(dropping: 3), id: parts[count - 1])
        } else if count >= 3 && parts[count - 2] == "blobs" && parts[count - 1] == "uploads" {
            self = .startUpload(name: name(dropping: 2))
        } else if count >= 3 && parts[count - 2] == "blobs" {
            self = .blob(name: name(dropping: 2), digest: parts[count - 1])
        } else {
            return nil
        }
    }
}

extension String {
    /// Percent-decoded when the escapes are valid; unchanged otherwise (so it fails validation later).
    var removingPercentEncodingIfValid: String {
        contains("%") ? (removingPercentEncoding ?? self) : self
    }
}
