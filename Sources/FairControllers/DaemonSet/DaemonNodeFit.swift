import FairKube

/// Whether a DaemonSet's pod belongs on a node (kube's nodeShouldRunDaemonPod): the template's
/// node name, node selector and required node affinity must allow the node, and its
/// tolerations (with those every daemon pod gets) must cover the node's NoSchedule and
/// NoExecute taints. A pod already there may stay while only NoSchedule ones are untolerated.
///
/// The scheduler has the same matching (FairScheduler's NodeAffinity and Taints); controllers
/// do not import the scheduler, so the few rules are read here again from the same views.
struct DaemonNodeFit: Equatable {
    /// A pod should be made on the node.
    var shouldRun: Bool
    /// A pod already on the node may stay.
    var shouldContinueRunning: Bool

    init(template: PodSpec, node: JSONValue) {
        let name = node.name ?? ""
        if let pinned = template.nodeName, pinned != name {
            self.init(shouldRun: false, shouldContinueRunning: false)
            return
        }
        guard Self.affinityMatches(template, nodeName: name, labels: node.labels) else {
            self.init(shouldRun: false, shouldContinueRunning: false)
            return
        }
        let taints = Node(json: node).spec.taints
        let tolerations = template.tolerations
        let untolerated = { (effects: Set<String>) in
            taints.contains { taint in
                effects.contains(taint.effect ?? "") && !tolerations.contains { Self.tolerates($0, taint) }
            }
        }
        if untolerated(["NoSchedule", "NoExecute"]) {
            self.init(shouldRun: false, shouldContinueRunning: !untolerated(["NoExecute"]))
        } else {
            self.init(shouldRun: true, shouldContinueRunning: true)
        }
    }

    init(shouldRun: Bool, shouldContinueRunning: Bool) {
        self.shouldRun = shouldRun
        self.shouldContinueRunning = shouldContinueRunning
    }

    /// The node selector, and one of the required terms if any are given (an empty term
    /// matches nothing, as in kube).
    static func affinityMatches(_ spec: PodSpec, nodeName: String, labels: [String: String]) -> Bool {
        for (key, value) in spec.nodeSelector where labels[key] != value { return false }
        guard let terms = spec.nodeAffinity?.requiredTerms else { return true }
        return terms.contains { term in
            if term.matchExpressions.isEmpty && term.matchFields.isEmpty { return false }
            return term.matchExpressions.allSatisfy { requirementHolds($0, labels[$0.key ?? ""]) }
                && term.matchFields.allSatisfy { $0.key == "metadata.name" && requirementHolds($0, nodeName) }
        }
    }

    private static func requirementHolds(_ requirement: NodeSelectorRequirement, _ actual: String?) -> Bool {
        let values = requirement.values
        switch requirement.operator ?? "" {
        case "In": return actual.map(values.contains) ?? false
        case "NotIn": return actual.map { !values.contains($0) } ?? true
        case "Exists": return actual != nil
        case "DoesNotExist": return actual == nil
        case "Gt", "Lt":
            guard let actual, let have = Int64(actual), values.count == 1, let bound = Int64(values[0]) else { return false }
            return requirement.operator == "Gt" ? have > bound : have < bound
        default: return false
        }
    }

    /// k8s.io/api's ToleratesTaint: an empty effect matches every effect, an empty key with
    /// Exists every taint.
    static func tolerates(_ toleration: Toleration, _ taint: Taint) -> Bool {
        if let effect = toleration.effect, !effect.isEmpty, effect != taint.effect { return false }
        if let key = toleration.key, !key.isEmpty, key != taint.key { return false }
        switch toleration.operator ?? "Equal" {
        case "Exists": return true
        case "Equal", "": return (toleration.value ?? "") == (taint.value ?? "")
        default: return false
        }
    }
}
