import FairKube

/// The parts of a pod that decide where it may go, read once per scheduling attempt.
struct SchedulingPod: Sendable {
    var key: String
    var namespace: String
    var name: String
    var uid: String
    var demand: PodDemand
    var affinity: NodeAffinity
    var tolerations: [Toleration]

    init(_ pod: JSONValue) {
        key = Informer.key(pod)
        namespace = pod.namespace ?? ""
        name = pod.name ?? ""
        uid = pod.uid ?? ""
        demand = PodDemand(pod: pod)
        affinity = NodeAffinity(pod: pod)
        tolerations = (pod.value(at: "spec.tolerations")?.arrayValue ?? []).map(Toleration.init)
    }
}

/// Reading pods the way the scheduler classifies them.
extension JSONValue {
    var podNodeName: String? {
        guard let name = value(at: "spec.nodeName")?.stringValue, !name.isEmpty else { return nil }
        return name
    }

    /// Succeeded or Failed: the pod holds nothing on its node any more.
    var podHasFinished: Bool {
        let phase = value(at: "status.phase")?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    var isTerminating: Bool {
        guard let timestamp = value(at: "metadata.deletionTimestamp") else { return false }
        return !timestamp.isNull
    }
}
