import FairKube

/// Where a pod may go by node labels: `spec.nodeSelector` and the required part of
/// `spec.affinity.nodeAffinity` (both must hold; any one of the terms suffices).
struct NodeAffinity: Equatable, Sendable {
    var nodeSelector: [String: String]
    /// nil: no required affinity. Empty: no term can match, so no node does.
    var requiredTerms: [NodeSelectorTerm]?

    init(pod: JSONValue) { self.init(spec: Pod(json: pod).spec) }

    init(spec: PodSpec) {
        nodeSelector = spec.nodeSelector
        requiredTerms = spec.nodeAffinity?.requiredTerms?.map(NodeSelectorTerm.init)
    }

    var isEmpty: Bool { nodeSelector.isEmpty && requiredTerms == nil }

    func matches(nodeName: String, labels: [String: String]) -> Bool {
        for (key, value) in nodeSelector where labels[key] != value { return false }
        guard let requiredTerms else { return true }
        return requiredTerms.contains { $0.matches(nodeName: nodeName, labels: labels) }
    }
}

/// One `nodeSelectorTerms[]` entry: all its expressions must hold. A term with no expressions
/// matches nothing, as in Kubernetes.
struct NodeSelectorTerm: Equatable, Sendable {
    struct Requirement: Equatable, Sendable {
        var key: String
        var `operator`: String
        var values: [String]

        init(_ requirement: NodeSelectorRequirement) {
            key = requirement.key ?? ""
            self.operator = requirement.operator ?? ""
            values = requirement.values
        }

        func matches(_ actual: String?) -> Bool {
            switch self.operator {
            case "In": return actual.map(values.contains) ?? false
            case "NotIn": return actual.map { !values.contains($0) } ?? true
            case "Exists": return actual != nil
            case "DoesNotExist": return actual == nil
            case "Gt", "Lt":
                guard let actual, let have = Int64(actual), values.count == 1, let bound = Int64(values[0]) else { return false }
                return self.operator == "Gt" ? have > bound : have < bound
            default: return false
            }
        }
    }

    var matchExpressions: [Requirement]
    /// Only `metadata.name` is a valid field.
    var matchFields: [Requirement]

    init(_ term: NodeSelectorTermView) {
        matchExpressions = term.matchExpressions.map(Requirement.init)
        matchFields = term.matchFields.map(Requirement.init)
    }

    func matches(nodeName: String, labels: [String: String]) -> Bool {
        if matchExpressions.isEmpty && matchFields.isEmpty { return false }
        return matchExpressions.allSatisfy { $0.matches(labels[$0.key]) }
            && matchFields.allSatisfy { $0.key == "metadata.name" && $0.matches(nodeName) }
    }
}
