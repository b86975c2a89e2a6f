import FairArchive

/// A content digest, `algorithm:hex` (image-spec descriptor "digest"). fair produces sha256 only,
/// but accepts sha512 when reading so a valid foreign image is not refused.
public struct Digest: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let algorithm: String
    public let encoded: String

    public init(parsing string: String) throws {
        guard let colon = string.firstIndex(of: ":") else { throw OCIError.invalidDigest(string) }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        let expectedLength: Int
        switch algorithm {
        case "sha256": expectedLength = 64
        case "sha512": expectedLength = 128
        default: throw OCIError.invalidDigest(string)
        }
        guard encoded.utf8.count == expectedLength,
              encoded.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
        else { throw OCIError.invalidDigest(string) }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    public static func sha256(hex: String) -> Digest {
        // Only fed from our own hashers, which always produce 64 lowercase hex digits.
        try! Digest(parsing: "sha256:" + hex)
    }

    public var description: String { "\(algorithm):\(encoded)" }

    public init(from decoder: Decoder) throws {
        let string = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: string)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

extension Digest {
    /// The sha256 digest of bytes in memory (manifests, configs, index files).
    public static func sha256(of bytes: [UInt8]) -> Digest {
        let sink = DigestingSink()
        // Hashing in memory cannot fail: the sink has nothing downstream.
        try! sink.write(bytes)
        try! sink.finish()
        return .sha256(hex: sink.hexDigest!)
    }
}
