/// "Whose token is this?" (authentication.k8s.io/v1), asked by proxies and webhooks that accept
/// the cluster's tokens. Answered by the authenticator, never stored.
extension KindDefinition {
    public static let tokenReview = KindDefinition(
        group: "authentication.k8s.io", version: "v1", kind: "TokenReview",
        plural: "tokenreviews", namespaced: false, stored: false)
}
