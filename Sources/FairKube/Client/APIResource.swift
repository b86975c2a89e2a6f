/// Where a kind of object lives in the API: `/api/v1/namespaces/NS/pods`, `/apis/batch/v1/jobs`, …
/// Each kind's file in `Kinds/` names its own (`APIResource.pods`, …).
public struct APIResource: Sendable, Hashable {
    public var group: String
    public var version: String
    public var plural: String
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.namespaced = namespaced
    }

    /// The URL path of the collection (in `namespace` when namespaced), or of one object.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { path += "/namespaces/\(namespace)" }
        path += "/\(plural)"
        if let name { path += "/\(name)" }
        if let subresource { path += "/\(subresource)" }
        return path
    }
}
