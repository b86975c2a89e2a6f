import Crypto

/// Comparing a secret someone presented with the one expected, in time that does not depend on
/// where (or whether) they differ, so a caller cannot learn a token byte by byte from how long
/// refusals take. Both sides are hashed and the digests compared with swift-crypto's
/// constant-time equality, which also hides the expected secret's length.
public enum SecretComparison {
    public static func matches(_ given: String, _ expected: String) -> Bool {
        SHA256.hash(data: Array(given.utf8)) == SHA256.hash(data: Array(expected.utf8))
    }

    /// Whether an `Authorization` header is `Bearer <token>`.
    public static func isBearer(_ authorization: String?, token: String) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        return matches(String(authorization.dropFirst("Bearer ".count)), token)
    }
}
