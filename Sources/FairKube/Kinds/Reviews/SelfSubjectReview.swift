/// "Who am I?" (authentication.k8s.io/v1): `kubectl auth whoami`. Answers the caller's user,
/// groups and extra attributes as the API server authenticated them; never stored.
extension KindDefinition {
    public static let selfSubjectReview = KindDefinition(
        group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview",
        plural: "selfsubjectreviews", namespaced: false, stored: false)
}
