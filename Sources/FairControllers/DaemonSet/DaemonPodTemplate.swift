import FairKube

/// A DaemonSet's pod for one node (kube's daemon util): the template with the tolerations
/// every daemon pod gets, and a required node affinity naming the node, so that the scheduler
/// (not this controller) binds it there as it binds any pod, checking resources and volumes.
enum DaemonPodTemplate {
    static let revisionLabel = "controller-revision-hash"
    /// Deprecated in kube but still written, for tools that read it.
    static let generationLabel = "pod-template-generation"

    /// kube's AddOrUpdateDaemonPodTolerations: a daemon pod keeps running on a node that is not
    /// ready or unreachable, and is placed on one under pressure or cordoned; on the host's
    /// network it also ignores a node's network being unavailable.
    static func daemonTolerations(hostNetwork: Bool) -> [(key: String, effect: String)] {
        var tolerations = [
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        ]
        if hostNetwork { tolerations.append(("node.kubernetes.io/network-unavailable", "NoSchedule")) }
        return tolerations.map { (key: $0.0, effect: $0.1) }
    }

    /// The template's spec with the daemon tolerations added where it has none of that key
    /// and effect.
    static func specWithTolerations(_ template: PodSpec) -> PodSpec {
        var spec = template
        var tolerations = spec.tolerations
        for (key, effect) in daemonTolerations(hostNetwork: spec.json["hostNetwork"]?.boolValue == true)
        where !tolerations.contains(where: { $0.key == key && $0.effect == effect }) {
            tolerations.append(Toleration(json: ["key": .string(key), "operator": "Exists", "effect": .string(effect)]))
        }
        spec.tolerations = tolerations
        return spec
    }

    /// The pod for `node`: required node affinity replaced by the node's name as a field
    /// (kube's ReplaceDaemonSetPodNodeNameNodeAffinity; the controller already checked the
    /// template's own terms against that node).
    static func pod(_ daemonSet: JSONValue, node: String, hash: String) -> JSONValue {
        let object = DaemonSet(json: daemonSet)
        var template = object.spec.template
        template.spec = specWithTolerations(template.spec)
        template.spec.json.set(.array([["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]]]]),
                               at: ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"])
        return PodTemplate.pod(from: template, owner: daemonSet, kind: .daemonSet, extraLabels: [
            revisionLabel: hash, generationLabel: String(object.metadata.generation ?? 1),
        ])
    }

    /// The node a daemon pod is for: where it is bound, or before that the one its affinity
    /// names (kube's GetTargetNodeName).
    static func targetNode(of pod: JSONValue) -> String? {
        let spec = Pod(json: pod).spec
        if let node = spec.nodeName { return node }
        guard let terms = spec.nodeAffinity?.requiredTerms else { return nil }
        for term in terms {
            for field in term.matchFields where field.key == "metadata.name" && field.operator == "In" && field.values.count == 1 {
                return field.values[0]
            }
        }
        return nil
    }
}
