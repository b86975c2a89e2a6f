import FairKube

/// The discovery documents clients read before anything else: which groups and versions exist
/// and which resources (with verbs, short names and subresources) each serves.
enum Discovery {
    static let serverVersion: JSONValue = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-fair", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "1980-01-01T00:00:00Z", "goVersion": "swift6", "compiler": "swift", "platform": "linux/amd64",
    ]

    static let coreVersions: JSONValue = [
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": ""]],
    ]

    static var groupList: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(KindCatalog.groups.map(group))]
    }

    static func group(_ name: String) -> JSONValue {
        let versions: [JSONValue] = Array(Set(KindCatalog.all.filter { $0.group == name }.map(\.version))).sorted().map {
            ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)]
        }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array(versions),
                "preferredVersion": versions.first ?? [:]]
    }

    static func resourceList(group: String, version: String) -> JSONValue? {
        let definitions = KindCatalog.resources(group: group, version: version)
        guard !definitions.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for definition in definitions {
            resources.append([
                "name": .string(definition.plural), "singularName": .string(definition.singular),
                "namespaced": .bool(definition.namespaced), "kind": .string(definition.kind),
                "verbs": .array(definition.verbs.map { .string($0) }),
                "shortNames": .array(definition.shortNames.map { .string($0) }),
                "categories": .array(definition.categories.map { .string($0) }),
            ])
            for subresource in definition.subresources {
                let verbs: [String]
                let kind: String
                // A subresource of another group's kind says which, as kube-apiserver's does:
                // client-go's scale client reads it to decode the Scale it GETs before a PUT.
                var groupVersion: (group: String, version: String)?
                switch subresource {
                case "log": verbs = ["get"]; kind = "Pod"
                case "binding": verbs = ["create"]; kind = "Binding"
                case "exec": verbs = ["create", "get"]; kind = "PodExecOptions"
                case "attach": verbs = ["create", "get"]; kind = "PodAttachOptions"
                case "portforward": verbs = ["create", "get"]; kind = "PodPortForwardOptions"
                case "token": verbs = ["create"]; kind = "TokenRequest"; groupVersion = ("authentication.k8s.io", "v1")
                case "scale": verbs = ["get", "patch", "update"]; kind = "Scale"; groupVersion = ("autoscaling", "v1")
                default: verbs = ["get", "patch", "update"]; kind = definition.kind
                }
                var entry: JSONValue = ["name": .string("\(definition.plural)/\(subresource)"), "singularName": "",
                                        "namespaced": .bool(definition.namespaced), "kind": .string(kind),
                                        "verbs": .array(verbs.map { .string($0) })]
                if let groupVersion {
                    entry["group"] = .string(groupVersion.group)
                    entry["version"] = .string(groupVersion.version)
                }
                resources.append(entry)
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
    }
}
