import FairSupport
import Crypto
import FairArchive
import FairKube
import Foundation

/// Issues and checks service-account tokens as kube-apiserver does (TokenRequest): JWTs signed
/// with the server's own key, naming an issuer, audiences and an expiry, and bound to the
/// account (and pod) they were made for by uid, so a token dies with its pod or account even
/// before it expires. The key is made once per data directory, readable by the server alone.
public final class ServiceAccountTokens: @unchecked Sendable {  // every property is immutable
    /// kubeadm's issuer, which in-cluster clients and OIDC consumers recognise.
    public static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"
    /// A pod's request for exactly this lifetime and the API's audience (the kubelet's for the
    /// kube-api-access volume) gets a year, with `warnafter` at the hour: kube's
    /// `--service-account-extend-token-expiration`, so a pod's API token outlives its refreshes.
    static let extendableSeconds: Int64 = 3607
    static let extendedSeconds: Int64 = 365 * 24 * 3600

    public let issuer: String
    /// Audiences the API server accepts tokens for (kube's `--api-audiences`, by default the issuer).
    let apiAudiences: [String]
    private let key: P256.Signing.PrivateKey
    let keyID: String
    private let store: ObjectStore

    public init(keyPath: String, issuer: String = defaultIssuer, store: ObjectStore) throws {
        self.issuer = issuer
        apiAudiences = [issuer]
        self.store = store
        key = try Self.loadKey(keyPath)
        keyID = Base64URL.encode(Data(SHA256.hash(data: key.publicKey.derRepresentation)))
    }

    private static func loadKey(_ path: String) throws -> P256.Signing.PrivateKey {
        if let pem = try? String(contentsOfFile: path, encoding: .utf8) {
            return try P256.Signing.PrivateKey(pemRepresentation: pem)
        }
        let key = P256.Signing.PrivateKey()
        try AtomicFile.write(to: path, bytes: Array(key.pemRepresentation.utf8), permissions: 0o600)
        return key
    }

    struct Binding: Sendable {
        var kind: String
        var name: String
        var uid: String
    }

    struct Issued {
        var token: String
        var expiration: Date
    }

    /// A token for the account `name` (uid `uid`) in `namespace`.
    func issue(namespace: String, name: String, uid: String, audiences: [String], expirationSeconds: Int64,
               boundTo binding: Binding?, nodeName: String? = nil, now: Date = Date()) throws -> Issued {
        let issuedAt = Int64(now.timeIntervalSince1970)
        let extended = binding?.kind == "Pod" && expirationSeconds == Self.extendableSeconds && audiences.allSatisfy(apiAudiences.contains)
        let expiresAt = issuedAt + (extended ? Self.extendedSeconds : expirationSeconds)
        var private_: [String: JSONValue] = [
            "namespace": .string(namespace),
            "serviceaccount": ["name": .string(name), "uid": .string(uid)],
        ]
        if let binding { private_[binding.kind.lowercased()] = ["name": .string(binding.name), "uid": .string(binding.uid)] }
        if let nodeName, !nodeName.isEmpty { private_["node"] = ["name": .string(nodeName)] }
        if extended { private_["warnafter"] = .int(issuedAt + expirationSeconds) }
        let claims: JSONValue = [
            "iss": .string(issuer), "sub": .string(UserInfo.serviceAccountName(namespace: namespace, name: name)),
            "aud": .array(audiences.map { .string($0) }),
            "iat": .int(issuedAt), "nbf": .int(issuedAt), "exp": .int(expiresAt),
            "jti": .string(UUID().uuidString.lowercased()),
            "kubernetes.io": .object(private_),
        ]
        let token = try JSONWebToken.sign(header: ["alg": "ES256", "kid": .string(keyID)], claims: claims, key: key)
        return Issued(token: token, expiration: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
    }

    /// The user a token stands for, or nil: a bad signature, another issuer, none of `audiences`,
    /// expired, or bound to an account or pod that is gone (or was made again with a new uid).
    func user(for token: String, audiences: [String]? = nil, now: Date = Date()) -> UserInfo? {
        guard let (_, claims) = JSONWebToken.verify(token, key: key.publicKey, keyID: keyID),
              claims["iss"]?.stringValue == issuer else { return nil }
        let tokenAudiences = claims["aud"]?.arrayValue?.compactMap(\.stringValue) ?? claims["aud"]?.stringValue.map { [$0] } ?? []
        guard tokenAudiences.contains(where: (audiences ?? apiAudiences).contains) else { return nil }
        let seconds = Int64(now.timeIntervalSince1970)
        guard let expiry = claims["exp"]?.intValue, seconds < expiry else { return nil }
        // kube allows a minute of clock skew before a token's start.
        if let notBefore = claims["nbf"]?.intValue, seconds + 60 < notBefore { return nil }
        guard let private_ = claims["kubernetes.io"], let namespace = private_["namespace"]?.stringValue,
              let name = private_.value(at: "serviceaccount.name")?.stringValue,
              let uid = private_.value(at: "serviceaccount.uid")?.stringValue,
              claims["sub"]?.stringValue == UserInfo.serviceAccountName(namespace: namespace, name: name),
              let account = store.get(KindDefinition.serviceAccount.storageKey, namespace: namespace, name: name)?.object,
              account.uid == uid, account.value(at: "metadata.deletionTimestamp") == nil
        else { return nil }
        var extra: [String: [String]] = [:]
        if let jti = claims["jti"]?.stringValue { extra["authentication.kubernetes.io/credential-id"] = ["JTI=\(jti)"] }
        for (kind, definition) in [("pod", KindDefinition.pod), ("secret", KindDefinition.secret)] {
            guard let bound = private_[kind] else { continue }
            guard let boundName = bound["name"]?.stringValue, let boundUID = bound["uid"]?.stringValue,
                  let object = store.get(definition.storageKey, namespace: namespace, name: boundName)?.object,
                  object.uid == boundUID, object.value(at: "metadata.deletionTimestamp") == nil
            else { return nil }
            if kind == "pod" {
                extra["authentication.kubernetes.io/pod-name"] = [boundName]
                extra["authentication.kubernetes.io/pod-uid"] = [boundUID]
            }
        }
        if let node = private_.value(at: "node.name")?.stringValue { extra["authentication.kubernetes.io/node-name"] = [node] }
        return UserInfo(name: UserInfo.serviceAccountName(namespace: namespace, name: name), uid: uid,
                        groups: UserInfo.serviceAccountGroups(namespace: namespace), extra: extra)
    }

    /// `/openid/v1/jwks`: the public key tokens are checked with.
    var keySet: JSONValue {
        let raw = key.publicKey.rawRepresentation  // x || y, 32 bytes each
        return ["keys": [[
            "use": "sig", "kty": "EC", "kid": .string(keyID), "crv": "P-256", "alg": "ES256",
            "x": .string(Base64URL.encode(raw.prefix(32))), "y": .string(Base64URL.encode(raw.suffix(32))),
        ]]]
    }

    /// `/.well-known/openid-configuration`, as kube-apiserver serves it for OIDC consumers.
    func discovery(jwksURI: String) -> JSONValue {
        [
            "issuer": .string(issuer), "jwks_uri": .string(jwksURI),
            "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        ]
    }
}
