/// The filter plugins of kube-scheduler's default profile that apply here, in its order: a node
/// is out at the first plugin that rejects it, and the resource plugin names every resource that
/// does not fit. Reasons use kube's wording, since users search for them.
enum NodeFilters {
    static let notReady = "node(s) were not ready"
    static let unschedulable = "node(s) were unschedulable"
    static let affinityMismatch = "node(s) didn't match Pod's node affinity/selector"
    static let tooManyPods = "Too many pods"

    /// Why `pod` cannot go to `node` given what is already placed there; empty when it fits.
    static func reasons(_ pod: SchedulingPod, _ node: SchedulableNode, _ usage: NodeUsage) -> [String] {
        if !node.ready { return [notReady] }
        if node.unschedulable && !pod.tolerations.tolerate(.unschedulable) { return [unschedulable] }
        if let taint = node.taints.first(where: { !pod.tolerations.tolerate($0) }) { return [taint.unschedulableReason] }
        if !pod.affinity.isEmpty && !pod.affinity.matches(nodeName: node.name, labels: node.labels) { return [affinityMismatch] }
        if !pod.volumeTerms.allSatisfy({ $0.contains { $0.matches(nodeName: node.name, labels: node.labels) } }) {
            return [VolumeBinding.affinityConflict]
        }
        return insufficientResources(pod.demand.requests, node.allocatable, usage.requested)
    }

    /// NodeResourcesFit: each requested resource against what the node has left. Resources the pod
    /// does not request are not checked, so a full node still takes a pod that asks for nothing
    /// (but one more pod).
    static func insufficientResources(_ request: ResourceAmounts, _ allocatable: ResourceAmounts,
                                      _ used: ResourceAmounts) -> [String] {
        var reasons: [String] = []
        if used.pods + request.pods > allocatable.pods { reasons.append(tooManyPods) }
        if request.milliCPU > 0 && request.milliCPU > allocatable.milliCPU - used.milliCPU { reasons.append("Insufficient cpu") }
        if request.memory > 0 && request.memory > allocatable.memory - used.memory { reasons.append("Insufficient memory") }
        for (name, amount) in request.extended where amount > 0 {
            // Nodes that do not report ephemeral storage are not limited by it (as in kube when
            // local storage isolation is off); any other resource the node lacks is insufficient.
            if name == "ephemeral-storage" && allocatable.extended[name] == nil { continue }
            if amount > (allocatable.extended[name] ?? 0) - (used.extended[name] ?? 0) { reasons.append("Insufficient \(name)") }
        }
        return reasons
    }
}
