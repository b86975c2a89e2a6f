import FairSupport
import Crypto
import FairKube
import Foundation

/// Compact JWS with ES256 (RFC 7515/7518): the form of Kubernetes' service-account tokens.
/// Written here because the packages at hand have no JWT library; it does only what the
/// tokens need: sign a header and claims, and check a signature before any claim is trusted.
enum JSONWebToken {
    static func sign(header: JSONValue, claims: JSONValue, key: P256.Signing.PrivateKey) throws -> String {
        let input = Base64URL.encode(JSONCoding.encode(header)) + "." + Base64URL.encode(JSONCoding.encode(claims))
        let signature = try key.signature(for: Data(input.utf8))
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// The header and claims of a token signed by `key`, or nil for anything else (a malformed
    /// token, another algorithm, another key, a forged signature).
    static func verify(_ token: String, key: P256.Signing.PublicKey, keyID: String) -> (header: JSONValue, claims: JSONValue)? {
        // A token is a few KiB at most; a megabyte of dots is not one.
        guard token.utf8.count <= 16 << 10 else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
              let signatureBytes = Base64URL.decode(parts[2]),
              let header = try? JSONCoding.decode(headerBytes),
              header["alg"]?.stringValue == "ES256",
              header["kid"] == nil || header["kid"]?.stringValue == keyID,
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
              key.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)),
              let claims = try? JSONCoding.decode(claimBytes), claims.objectValue != nil
        else { return nil }
        return (header, claims)
    }
}
