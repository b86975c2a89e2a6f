import FairKube

/// One rule of a Role or ClusterRole, and the matching kube's RBAC authorizer does: `*` matches
/// anything, `pods/log` names a subresource, `*/scale` a subresource of any resource, a rule
/// with resource names only matches requests that name one of them, and a non-resource URL
/// ending in `*` matches every path under it.
struct PolicyRule: Sendable, Equatable {
    var verbs: [String]
    var apiGroups: [String] = []
    var resources: [String] = []
    var resourceNames: [String] = []
    var nonResourceURLs: [String] = []

    init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [], nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    init(_ json: JSONValue) {
        verbs = RBACRules.strings(json["verbs"])
        apiGroups = RBACRules.strings(json["apiGroups"])
        resources = RBACRules.strings(json["resources"])
        resourceNames = RBACRules.strings(json["resourceNames"])
        nonResourceURLs = RBACRules.strings(json["nonResourceURLs"])
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["verbs": Self.list(verbs)]
        if !apiGroups.isEmpty || !resources.isEmpty { object["apiGroups"] = Self.list(apiGroups) }
        if !resources.isEmpty { object["resources"] = Self.list(resources) }
        if !resourceNames.isEmpty { object["resourceNames"] = Self.list(resourceNames) }
        if !nonResourceURLs.isEmpty { object["nonResourceURLs"] = Self.list(nonResourceURLs) }
        return .object(object)
    }

    private static func list(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    func allows(_ request: RequestAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        if !request.isResourceRequest {
            return nonResourceURLs.contains { url in
                url == "*" || url == request.path || (url.hasSuffix("*") && request.path.hasPrefix(url.dropLast()))
            }
        }
        guard apiGroups.contains("*") || apiGroups.contains(request.apiGroup) else { return false }
        let combined = request.subresource.isEmpty ? request.resource : "\(request.resource)/\(request.subresource)"
        let resourceMatches = resources.contains { resource in
            resource == "*" || resource == combined
                || (!request.subresource.isEmpty && resource == "*/\(request.subresource)")
        }
        guard resourceMatches else { return false }
        return resourceNames.isEmpty || (!request.name.isEmpty && resourceNames.contains(request.name))
    }
}

extension RBACRules {
    /// The rules of a Role or ClusterRole object.
    static func rules(of role: JSONValue) -> [PolicyRule] {
        (role["rules"]?.arrayValue ?? []).map(PolicyRule.init)
    }
}
