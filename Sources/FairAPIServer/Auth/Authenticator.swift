import FairArchive
import Foundation
import FairKube
import HTTPTypes

/// Turns a request's credential into a user, before anything else of the request is read: the
/// server's own token is the administrator; a service-account token is its account (checked by
/// `tokens`); a client certificate the cluster's root signed is the user its subject names, as
/// kube-apiserver's x509 authenticator reads it (common name → user, organizations → groups),
/// which is how nodes prove who they are. Anything else is no one, and the request ends in a 401.
struct Authenticator: Sendable {
    let adminToken: String?
    let tokens: ServiceAccountTokens?

    /// `certificate`: the verified client certificate's subject, asked for only when the request
    /// carries no token (a token is what the client chose to send; certificates cost a lookup).
    func identify(_ request: HTTPFields, certificate: () async -> (commonName: String, organizations: [String])? = { nil }) async -> UserInfo? {
        if let user = user(for: request) { return user }
        guard adminToken != nil, request[.authorization] == nil, let subject = await certificate() else { return nil }
        return Self.user(commonName: subject.commonName, organizations: subject.organizations)
    }

    func user(for request: HTTPFields) -> UserInfo? {
        guard let adminToken else { return .admin }
        guard let header = request[.authorization] else { return nil }
        if SecretComparison.isBearer(header, token: adminToken) { return .admin }
        guard let token = Self.bearer(header) else { return nil }
        return tokens?.user(for: token)
    }

    /// A certificate's user; one without a common name is no one (kube: "common name of user
    /// not set").
    static func user(commonName: String, organizations: [String]) -> UserInfo? {
        guard !commonName.isEmpty else { return nil }
        var groups = organizations
        if !groups.contains(UserInfo.authenticatedGroup) { groups.append(UserInfo.authenticatedGroup) }
        return UserInfo(name: commonName, groups: groups)
    }

    /// The credential of `Authorization: Bearer …` (the scheme in any case, as Go's server takes it).
    static func bearer(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
