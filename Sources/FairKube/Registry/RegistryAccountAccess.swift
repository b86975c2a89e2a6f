/// How a service account is let into fair's embedded registry: RBAC on the resource
/// `repositories` of the API group `registry.fair.dev`, by repository name and the registry's
/// actions as verbs (`pull`, `push`, `delete`), in the account's namespace; and a token made for
/// the registry's audience, exchanged over TLS at the API server's `/v2/token` for a registry
/// token scoped to what RBAC allows. One place for the names both sides use.
public enum RegistryAccountAccess {
    public static let apiGroup = "registry.fair.dev"
    public static let resource = "repositories"
    /// The audience of service-account tokens the registry exchanges (and the API refuses).
    public static let audience = "registry.fair.dev"
    /// The ConfigMap key (beside `localRegistryHosting.v1`) saying the cluster's registry
    /// exchanges service-account tokens, and at which path of the API server.
    public static let hostingKey = "fairAccountTokenPath.v1"
    public static let tokenPath = "/v2/token"
}
