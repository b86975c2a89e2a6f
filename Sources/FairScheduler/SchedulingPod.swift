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
    /// The node affinity of the pod's bound volumes: each list must hold (VolumeBinding).
    var volumeTerms: [[NodeSelectorTerm]] = []

    init(_ pod: JSONValue) {
        key = Informer.key(pod)
        namespace = pod.namespace ?? ""
        name = pod.name ?? ""
        uid = pod.uid ?? ""
        let spec = Pod(json: pod).spec
        demand = PodDemand(spec: spec)
        affinity = NodeAffinity(spec: spec)
        tolerations = spec.tolerations.map(Toleration.init)
    }
}

/// Reading pods the way the scheduler classifies them.
extension JSONValue {
    var podNodeName: String? { Pod(json: self).spec.nodeName }

    /// Succeeded or Failed: the pod holds nothing on its node any more.
    var podHasFinished: Bool { Pod(json: self).status.hasFinished }

    var isTerminating: Bool { Pod(json: self).metadata.isTerminating }
}
