import FairKube
/// A parsed resource URL: `/api/v1/namespaces/NS/pods/NAME/status`,
/// `/apis/apps/v1/deployments`, `/api/v1/nodes/NAME`, …
struct ResourcePath: Equatable {
    var definition: KindDefinition
    var namespace: String?
    var name: String?
    var subresource: String?
    /// Reached through the legacy `…/watch/…` prefix (`/api/v1/watch/namespaces/NS/pods`), which
    /// kube-apiserver still serves and older clients still use: a watch whatever the query says.
    var watch = false

    /// nil when the path is not a resource path (discovery, health, registry, unknown).
    static func parse(_ path: String) throws -> ResourcePath? {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let group: String
        let version: String
        if segments.first == "api", segments.count >= 3 {
            group = ""
            version = segments[1]
            segments.removeFirst(2)
        } else if segments.first == "apis", segments.count >= 4 {
            group = segments[1]
            version = segments[2]
            segments.removeFirst(3)
        } else {
            return nil
        }
        var watch = false
        if segments.first == "watch" {
            watch = true
            segments.removeFirst()
        }
        var namespace: String?
        // `namespaces/NS/<resource>…` is a namespaced path, unless it addresses the namespace itself.
        if segments.count >= 3, segments[0] == "namespaces", KindCatalog.find(group: group, version: version, plural: segments[2])?.namespaced == true {
            namespace = segments[1]
            segments.removeFirst(2)
        }
        guard let plural = segments.first else { return nil }
        guard let definition = KindCatalog.find(group: group, version: version, plural: plural) else {
            throw APIError.unknownPath
        }
        if definition.namespaced == false && namespace != nil {
            throw APIError.unknownPath
        }
        let name = segments.count > 1 ? segments[1] : nil
        let subresource = segments.count > 2 ? segments[2...].joined(separator: "/") : nil
        if let subresource, !definition.subresources.contains(subresource) {
            throw APIError.unknownPath
        }
        if watch && subresource != nil { throw APIError.unknownPath }
        return ResourcePath(definition: definition, namespace: namespace, name: name, subresource: subresource, watch: watch)
    }
}
