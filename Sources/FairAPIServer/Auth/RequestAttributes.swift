import FairKube
import Foundation
import HTTPTypes

/// What a request asks to do, in the words RBAC rules use (kube's `RequestInfo` with its user):
/// a verb on a resource of a group, perhaps named and in a namespace, or a verb on a path that is
/// not a resource (`/api`, `/metrics`).
struct RequestAttributes: Sendable, Equatable {
    var user: UserInfo
    var verb: String
    var isResourceRequest: Bool
    var path: String
    var apiGroup = ""
    var apiVersion = ""
    var resource = ""
    var subresource = ""
    var namespace = ""
    var name = ""

    /// A resource request: the verb as kube-apiserver derives it from the method and whether a
    /// name or a watch is asked for.
    /// `watch`: the request's `?watch` flag; `fieldSelector`: its field selector, whose
    /// `metadata.name=X` names the object of a list or watch (so `resourceNames` rules apply).
    init(user: UserInfo, method: HTTPRequest.Method, resource path: ResourcePath, watch: Bool, fieldSelector: String?, urlPath: String) {
        self.user = user
        isResourceRequest = true
        self.path = urlPath
        apiGroup = path.definition.group
        apiVersion = path.definition.version
        resource = path.definition.plural
        subresource = path.subresource ?? ""
        name = path.name ?? ""
        // A namespace is its own namespace: a RoleBinding in `team` may grant `get namespaces`
        // on `team`, as kube's request info reads `/api/v1/namespaces/team`.
        namespace = path.namespace ?? (path.definition == .namespace ? name : "")
        switch method {
        case .get, .head:
            // A named GET with ?watch stays a get, as kube's request info reads it; the legacy
            // /watch/ prefix is a watch whatever it names.
            if path.watch {
                verb = "watch"
            } else if path.name != nil {
                verb = "get"
            } else {
                verb = watch ? "watch" : "list"
                name = Self.selectedName(fieldSelector) ?? ""
            }
        case .post: verb = "create"
        case .put: verb = "update"
        case .patch: verb = "patch"
        case .delete: verb = path.name == nil ? "deletecollection" : "delete"
        default: verb = method.rawValue.lowercased()
        }
    }

    /// X of a field selector `metadata.name=X` (or `==`), the one object a list or watch names.
    private static func selectedName(_ selector: String?) -> String? {
        guard let selector else { return nil }
        for requirement in selector.split(separator: ",") {
            let trimmed = requirement.trimmingCharacters(in: .whitespaces)
            for prefix in ["metadata.name==", "metadata.name="] where trimmed.hasPrefix(prefix) {
                return String(trimmed.dropFirst(prefix.count))
            }
        }
        return nil
    }

    /// A request for a path that is not a resource: the verb is the method's name.
    init(user: UserInfo, method: HTTPRequest.Method, nonResourcePath: String) {
        self.user = user
        isResourceRequest = false
        path = nonResourcePath
        verb = method.rawValue.lowercased()
        if verb == "head" { verb = "get" }
    }

    /// An access review's question, asked about `user`.
    init(user: UserInfo, verb: String, resource: String, subresource: String = "", apiGroup: String = "",
         namespace: String = "", name: String = "") {
        self.user = user
        self.verb = verb
        isResourceRequest = true
        path = ""
        self.resource = resource
        self.subresource = subresource
        self.apiGroup = apiGroup
        self.namespace = namespace
        self.name = name
    }

    init(user: UserInfo, verb: String, nonResourcePath: String) {
        self.user = user
        self.verb = verb
        isResourceRequest = false
        path = nonResourcePath
    }
}
