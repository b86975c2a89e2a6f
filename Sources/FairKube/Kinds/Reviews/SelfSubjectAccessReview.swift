/// "May I do this?" asked by the caller about itself (authorization.k8s.io/v1): `kubectl auth
/// can-i`. Answered by the API server's authorizer, never stored.
extension KindDefinition {
    public static let selfSubjectAccessReview = KindDefinition(
        group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview",
        plural: "selfsubjectaccessreviews", namespaced: false, stored: false)
}
