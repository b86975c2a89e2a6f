import FairKube

/// What makes pod N of a StatefulSet that pod and no other (kube's stateful_set_utils.go): its
/// name `SET-N`, the labels naming it and its index, its hostname and subdomain (so the set's
/// headless Service resolves `SET-N.SERVICE`), and its claims `TEMPLATE-SET-N`, which outlive
/// the pod so that its replacement finds the same data.
enum StatefulPodIdentity {
    static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    static let podIndexLabel = "apps.kubernetes.io/pod-index"
    static let revisionLabel = "controller-revision-hash"

    static func podName(set: String, ordinal: Int64) -> String { "\(set)-\(ordinal)" }

    static func claimName(template: String, set: String, ordinal: Int64) -> String { "\(template)-\(set)-\(ordinal)" }

    /// The ordinal of a pod of `set` by its name, nil when the name is not `SET-N` (kube's
    /// getParentNameAndOrdinal: the set's name, a dash, digits).
    static func ordinal(of podName: String?, set: String) -> Int64? {
        guard let podName, podName.hasPrefix(set + "-") else { return nil }
        let digits = podName.dropFirst(set.count + 1)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int64(digits)
    }

    static func revision(of pod: JSONValue) -> String? { pod.labels[revisionLabel] }

    /// Pod `ordinal` of the set at `revision`: the template, its identity, its claims as volumes.
    static func newPod(_ set: JSONValue, ordinal: Int64, revision: String) -> JSONValue {
        let spec = StatefulSet(json: set).spec
        let setName = set.name ?? ""
        let name = podName(set: setName, ordinal: ordinal)
        var pod = Pod(json: PodTemplate.pod(from: spec.template, owner: set, kind: .statefulSet, extraLabels: [
            podNameLabel: name, podIndexLabel: String(ordinal), revisionLabel: revision,
        ]))
        pod.metadata.generateName = nil
        pod.metadata.name = name
        pod.spec.hostname = name
        if let service = spec.serviceName, !service.isEmpty { pod.spec.json["subdomain"] = .string(service) }
        pod.spec.volumes = podVolumes(set, template: spec.template.spec.volumes, ordinal: ordinal)
        return pod.json
    }

    /// The template's volumes, with those named like a claim template replaced by that claim
    /// (kube's updateStorage), and a volume added for each claim template not named there.
    private static func podVolumes(_ set: JSONValue, template volumes: [Volume], ordinal: Int64) -> [Volume] {
        let setName = set.name ?? ""
        let templates = StatefulSet(json: set).spec.volumeClaimTemplates.compactMap(\.metadata.name)
        var result = volumes.filter { !templates.contains($0.name ?? "") }
        for template in templates {
            result.append(Volume(json: ["name": .string(template), "persistentVolumeClaim": [
                "claimName": .string(claimName(template: template, set: setName, ordinal: ordinal)),
            ]]))
        }
        return result
    }

    /// The claims pod `ordinal` mounts, as they are made when missing: the template, named for
    /// the pod, labelled with the set's selector's labels (kube's getPersistentVolumeClaims).
    static func claims(_ set: JSONValue, ordinal: Int64) -> [JSONValue] {
        let setName = set.name ?? ""
        let selectorLabels = (set.value(at: "spec.selector.matchLabels")?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return StatefulSet(json: set).spec.volumeClaimTemplates.compactMap { template in
            guard let templateName = template.metadata.name else { return nil }
            var metadata = ObjectMeta()
            metadata.name = claimName(template: templateName, set: setName, ordinal: ordinal)
            metadata.namespace = set.namespace ?? "default"
            metadata.labels = template.metadata.labels.merging(selectorLabels) { _, selector in selector }
            metadata.annotations = template.metadata.annotations
            var claim: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata.json]
            claim["spec"] = template.spec
            return claim
        }
    }

    /// Whether a pod still carries the identity its name gives it (kube's identityMatches).
    static func identityMatches(_ set: JSONValue, _ pod: JSONValue, ordinal: Int64) -> Bool {
        let labels = pod.labels, name = pod.name ?? ""
        return pod.namespace == set.namespace && labels[podNameLabel] == name && labels[podIndexLabel] == String(ordinal)
    }
}
