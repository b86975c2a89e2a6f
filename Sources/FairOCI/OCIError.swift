/// Errors about OCI content, each naming the thing that is wrong.
public enum OCIError: Error, CustomStringConvertible, Equatable {
    case invalidDigest(String)
    case invalidPlatform(String)
    case notAnImage(source: String, reason: String)
    case tagNotFound(source: String, tag: String, available: [String])
    case ambiguousImage(source: String, tags: [String])
    case blobMissing(source: String, digest: String)
    case digestMismatch(source: String, expected: String, actual: String)
    case platformNotFound(source: String, platform: String, available: [String])
    case invalidJSON(source: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidDigest(value):
            return "invalid digest \"\(value)\": expected sha256:<64 lowercase hex digits>"
        case let .invalidPlatform(value):
            return "invalid platform \"\(value)\": expected os/arch[/variant], e.g. linux/amd64"
        case let .notAnImage(source, reason):
            return "\(source) is not an OCI image: \(reason)"
        case let .tagNotFound(source, tag, available):
            let list = available.isEmpty ? "it has no tagged images" : "it has: \(available.joined(separator: ", "))"
            return "\(source) has no image tagged \"\(tag)\"; \(list)"
        case let .ambiguousImage(source, tags):
            return "\(source) holds several images (\(tags.joined(separator: ", "))); name one with :TAG"
        case let .blobMissing(source, digest):
            return "\(source) is missing blob \(digest)"
        case let .digestMismatch(source, expected, actual):
            return "\(source): blob content does not match its digest (expected \(expected), got \(actual))"
        case let .platformNotFound(source, platform, available):
            return "\(source) has no image for \(platform); it has: \(available.joined(separator: ", "))"
        case let .invalidJSON(source, reason):
            return "\(source): invalid JSON: \(reason)"
        }
    }
}
