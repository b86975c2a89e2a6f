import FairKube
import Foundation

/// Service accounts at the embedded registry (`RegistryAccountAccess`): a token for the
/// registry's audience is exchanged at the registry's token endpoint for a token scoped to what
/// RBAC lets the account do, in its own namespace, by repository name. No default role grants
/// it, and the escalation check keeps anyone from granting what they do not hold, so only the
/// administrator opens a repository to an account (as `fair train` does for each job's model step).
extension APIServer {
    /// What the holder of a service-account `token` may do in a repository: nil when the token is
    /// not a valid service-account token for the registry's audience (the API's own are not
    /// taken, so a container holding only its pod's API token cannot push).
    public func registryAccess(token: String) -> (@Sendable (_ repository: String, _ verb: String) -> Bool)? {
        guard let tokens, token.split(separator: ".").count == 3,
              let user = tokens.user(for: token, audiences: [RegistryAccountAccess.audience]),
              let namespace = UserInfo.serviceAccountNamespace(user.name) else { return nil }
        let authorizer = self.authorizer
        return { repository, verb in
            authorizer.authorize(RequestAttributes(user: user, verb: verb, resource: RegistryAccountAccess.resource,
                                                   apiGroup: RegistryAccountAccess.apiGroup, namespace: namespace,
                                                   name: repository)).allowed
        }
    }
}
