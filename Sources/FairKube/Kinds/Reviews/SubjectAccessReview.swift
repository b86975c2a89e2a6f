/// "May this user do this?" (authorization.k8s.io/v1), asked by proxies and webhooks that
/// authorize on the cluster's behalf. Answered by the authorizer, never stored.
extension KindDefinition {
    public static let subjectAccessReview = KindDefinition(
        group: "authorization.k8s.io", version: "v1", kind: "SubjectAccessReview",
        plural: "subjectaccessreviews", namespaced: false, stored: false)
}

extension APIResource {
    public static let subjectAccessReviews = KindDefinition.subjectAccessReview.resource
}
