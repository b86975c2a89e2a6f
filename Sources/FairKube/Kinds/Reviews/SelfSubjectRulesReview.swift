/// "What may I do in this namespace?" (authorization.k8s.io/v1): `kubectl auth can-i --list`.
/// Answered from the caller's RBAC rules, never stored.
extension KindDefinition {
    public static let selfSubjectRulesReview = KindDefinition(
        group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectRulesReview",
        plural: "selfsubjectrulesreviews", namespaced: false, stored: false)
}
