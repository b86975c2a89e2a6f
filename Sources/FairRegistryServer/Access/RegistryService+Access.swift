import Foundation
import Hummingbird

/// Access checks of every /v2 request, before anything of it but the path and query is read,
/// and the token endpoint clients are sent to by the challenge.
extension RegistryService {
    static let tokenPath = "/v2/token"
    /// Tokens the endpoint issues live this long (the client asks again when one expires).
    static let tokenLifetime: TimeInterval = 3600

    /// nil when the request may go ahead; otherwise the 401 or 403 to answer.
    func accessDenial(_ request: Request, path: String, inClear: Bool) -> Response? {
        guard let policy else {
            return authorize(request.method.rawValue, path, request.headers[.authorization]) ? nil : DistributionError.unauthorized().response
        }
        let authorization = request.headers[.authorization]
        let realm = realm(request, inClear: inClear)
        // Pods share loopback and may read what crosses it: the cluster's token, or an account's,
        // sent in clear is refused (and so never useful to send), with where to exchange it.
        if inClear, policy.grant(authorization).isClusterCredential {
            return DistributionError.challenge(realm: realm, scopes: Self.requiredScopes(request, path: path),
                                               message: Self.clearTextRefusal(tokenRealmOverTLS)).response
        }
        if path == Self.tokenPath { return nil }
        // `/v2/` answers whether the credential is good, as distribution with auth does: a
        // client's `login` checks it here, and an anonymous client is sent for a token.
        if Route(path: path) == .base {
            switch policy.grant(authorization) {
            case .admin, .scopes, .account: return nil
            case .anonymous, .invalid: break
            }
            return DistributionError.challenge(realm: realm, scopes: []).response
        }
        let required = Self.requiredScopes(request, path: path)
        switch policy.decide(required: required, authorization: authorization) {
        case .allow: return nil
        case .challenge: return DistributionError.challenge(realm: realm, scopes: required).response
        case .deny: return DistributionError.denied(required).response
        }
    }

    static func clearTextRefusal(_ secureEndpoint: String?) -> String {
        "the cluster's token (or a service account's) is not accepted over plain HTTP, where pods could read it: exchange it over TLS at \(secureEndpoint ?? "the API server's /v2/token") for a token scoped to the repository, and send that (fair does this itself with the kubeconfig)"
    }

    /// Where the challenge sends a client for a token: this same endpoint, by the scheme it was
    /// reached with. Anonymous clients and holders of scoped tokens get their tokens there; the
    /// cluster's token goes only to the TLS one.
    private func realm(_ request: Request, inClear: Bool) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        return "\(inClear ? "http" : "https")://\(host)\(Self.tokenPath)"
    }

    /// What a request does, as scopes: reads pull, writes push, DELETE deletes; a mount also
    /// reads its source. The base and the catalog need no repository scope.
    static func requiredScopes(_ request: Request, path: String) -> [RegistryScope] {
        guard let route = Route(path: path) else { return [] }
        let write: RegistryScope.Action
        switch request.method {
        case .get, .head: write = .pull
        case .delete: write = .delete
        default: write = .push
        }
        switch route {
        case .base, .catalog: return []
        case let .tags(name): return [RegistryScope(repository: name, actions: [.pull])]
        case let .manifest(name, _), let .blob(name, _), let .upload(name, _):
            return [RegistryScope(repository: name, actions: [write])]
        case let .startUpload(name):
            var scopes = [RegistryScope(repository: name, actions: [.push, .pull])]
            if let from = request.uri.queryParameters["from"].map(String.init), !from.isEmpty {
                scopes.append(RegistryScope(repository: from, actions: [.pull]))
            }
            return scopes
        }
    }

    /// `GET /v2/token?service=…&scope=repository:NAME:push,pull` (Docker's token protocol).
    func tokenResponse(_ request: Request) -> Response {
        guard let policy else { return DistributionError.unauthorized().response }
        let requested = request.uri.queryParameters.getAll("scope").flatMap { RegistryScope.parseList(String($0)) }
        let lifetime = Self.tokenLifetime
        guard let (token, _) = policy.token(requested: requested, authorization: request.headers[.authorization],
                                            lifetime: lifetime) else {
            return DistributionError.unauthorized().response
        }
        struct Answer: Encodable {
            var token: String
            var access_token: String
            var expires_in: Int
            var issued_at: String
        }
        let issued = ISO8601DateFormatter().string(from: Date())
        return Responses.json(Answer(token: token, access_token: token, expires_in: Int(lifetime), issued_at: issued))
    }

    /// Removes abandoned upload sessions while the registry runs, at most every `purgeInterval`.
    func purgeAbandonedUploadsNowAndThen() {
        guard purgeClock.due(every: Self.purgeInterval) else { return }
        storage.purgeStale(olderThan: Self.staleUploadAge)
    }
}

/// When the last purge ran; shared by concurrent requests.
final class PurgeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date()

    func due(every interval: TimeInterval) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(last) >= interval else { return false }
        last = Date()
        return true
    }
}
