import FairArchive
import Foundation
import FairKube
import HTTPTypes

/// Turns a request's bearer token into a user, before anything else of the request is read: the
/// server's own token is the administrator; a service-account token is its account (checked by
/// `tokens`). Anything else is no one, and the request ends in a 401.
struct Authenticator: Sendable {
    let adminToken: String?
    let tokens: ServiceAccountTokens?

    func user(for request: HTTPFields) -> UserInfo? {
        guard let adminToken else { return .admin }
        guard let header = request[.authorization] else { return nil }
        if SecretComparison.isBearer(header, token: adminToken) { return .admin }
        guard let token = Self.bearer(header) else { return nil }
        return tokens?.user(for: token)
    }

    /// The credential of `Authorization: Bearer …` (the scheme in any case, as Go's server takes it).
    static func bearer(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
