import FairArchive
import Foundation

/// Who may do what in the registry: anyone may pull (when `anonymousPull`), and pushing or
/// deleting needs a credential: the server's own secret (the admin, e.g. `fair` on the host
/// holding the kubeconfig), or a token from `/v2/token` whose scopes cover the repository.
/// Credentials come as `Bearer SECRET_OR_TOKEN` or as the password of `Basic`, which is what
/// docker, skopeo and podman send after `login`.
public struct RegistryAccessPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case allow
        /// No usable credential: 401 with a Bearer challenge naming the token endpoint.
        case challenge
        /// A valid credential that does not cover the request: 403.
        case deny
    }

    /// What the holder of an account's credential may do in a repository (`pull`, `push`,
    /// `delete`), as the cluster decides it.
    public typealias AccountAccess = @Sendable (_ repository: String, _ action: String) -> Bool
    /// Recognises credentials the registry does not issue itself (the API server's
    /// service-account tokens): nil for any it does not know.
    public typealias AccountAuthority = @Sendable (_ credential: String) -> AccountAccess?

    enum Grant {
        case anonymous
        case admin
        case scopes([RegistryScope])
        /// An account of the cluster: exchanged at the token endpoint for a scoped token.
        case account(AccountAccess)
        case invalid

        /// A credential that must never cross plain HTTP, where pods could read it.
        var isClusterCredential: Bool {
            switch self {
            case .admin, .account: return true
            case .anonymous, .scopes, .invalid: return false
            }
        }
    }

    public let anonymousPull: Bool
    private let adminSecret: String
    public let authority: RegistryTokenAuthority
    private let accounts: AccountAuthority?

    public init(adminSecret: String, anonymousPull: Bool = true, accounts: AccountAuthority? = nil) {
        self.adminSecret = adminSecret
        self.anonymousPull = anonymousPull
        self.accounts = accounts
        authority = RegistryTokenAuthority(secret: adminSecret)
    }

    func grant(_ authorization: String?) -> Grant {
        guard let authorization, !authorization.isEmpty else { return .anonymous }
        let secret: String
        if authorization.hasPrefix("Bearer ") {
            secret = String(authorization.dropFirst("Bearer ".count))
        } else if authorization.hasPrefix("Basic "),
                  let data = Data(base64Encoded: String(authorization.dropFirst("Basic ".count))),
                  let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":") {
            secret = String(pair[pair.index(after: colon)...])
        } else {
            return .invalid
        }
        if SecretComparison.matches(secret, adminSecret) { return .admin }
        if let scopes = authority.verify(secret) { return .scopes(scopes) }
        if let access = accounts?(secret) { return .account(access) }
        return .invalid
    }

    /// Whether a request needing `required` may go ahead with this Authorization header.
    public func decide(required: [RegistryScope], authorization: String?) -> Decision {
        let pullOnly = required.allSatisfy { $0.actions.isSubset(of: [.pull]) }
        switch grant(authorization) {
        case .admin: return .allow
        case .anonymous: return pullOnly && anonymousPull ? .allow : .challenge
        case .invalid: return pullOnly && anonymousPull ? .allow : .challenge
        case let .scopes(granted):
            let covered = required.allSatisfy { need in
                need.actions.subtracting(anonymousPull ? [.pull] : []).isSubset(of: Self.actions(granted, need.repository))
            }
            return covered ? .allow : .deny
        case .account:
            // An account's token is for the token endpoint only: the client is sent there.
            return pullOnly && anonymousPull ? .allow : .challenge
        }
    }

    /// The token endpoint's answer: the requested scopes cut down to what the caller may have
    /// (the admin anything, a token holder its own scopes, anyone pull when pulls are open).
    public func token(requested: [RegistryScope], authorization: String?, lifetime: TimeInterval) -> (token: String, scopes: [RegistryScope])? {
        let grant = grant(authorization)
        if case .invalid = grant { return nil }
        let scopes: [RegistryScope] = requested.compactMap { want in
            let allowed: Set<RegistryScope.Action>
            switch grant {
            case .admin: allowed = want.actions
            case let .scopes(granted): allowed = want.actions.intersection(Self.actions(granted, want.repository).union(anonymousPull ? [.pull] : []))
            case let .account(access):
                allowed = want.actions.filter { (anonymousPull && $0 == .pull) || access(want.repository, $0.rawValue) }
            case .anonymous, .invalid: allowed = anonymousPull ? want.actions.intersection([.pull]) : []
            }
            return allowed.isEmpty ? nil : RegistryScope(repository: want.repository, actions: allowed)
        }
        return (authority.issue(scopes, lifetime: lifetime), scopes)
    }

    private static func actions(_ granted: [RegistryScope], _ repository: String) -> Set<RegistryScope.Action> {
        granted.filter { $0.repository == repository }.reduce(into: Set()) { $0.formUnion($1.actions) }
    }
}
