import FairSupport
import Crypto
import Foundation

/// Registry tokens limited to scopes and a lifetime, signed with a key only the server holds
/// (HMAC-SHA256): `fair1.<payload>.<mac>`, payload = base64url of `{"scopes": […], "exp": …}`.
/// The server checks them statelessly, so a training pod can be handed push rights to its own
/// model's repository and to nothing else.
public struct RegistryTokenAuthority: Sendable {
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The key is derived from a secret the server keeps (its admin token), under a label of its
    /// own, so a registry token never verifies as anything else and reveals nothing of the secret.
    public init(secret: String) {
        keyBytes = Data(HMAC<SHA256>.authenticationCode(for: Data("fair registry token key v1".utf8),
                                                        using: SymmetricKey(data: Data(secret.utf8))))
    }

    public func issue(_ scopes: [RegistryScope], lifetime: TimeInterval, now: Date = Date()) -> String {
        let payload: [String: Any] = ["scopes": scopes.map(\.description), "exp": Int64(now.addingTimeInterval(lifetime).timeIntervalSince1970)]
        let data = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
        let encoded = Base64URL.encode(data)
        let mac = Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(encoded.utf8), using: key)))
        return "fair1.\(encoded).\(mac)"
    }

    /// The scopes a token grants now; nil when it is not one of ours, was altered, or expired.
    public func verify(_ token: String, now: Date = Date()) -> [RegistryScope]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "fair1", let mac = Base64URL.decode(parts[2]) else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[1].utf8), using: key) else { return nil }
        guard let data = Base64URL.decode(parts[1]),
              let payload = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let expiry = (payload["exp"] as? NSNumber)?.int64Value, expiry > Int64(now.timeIntervalSince1970),
              let scopes = payload["scopes"] as? [String] else { return nil }
        return scopes.compactMap { RegistryScope(parsing: Substring($0)) }
    }
}
