/// A pod's CPU and memory use per container over the last sampling window
/// (metrics.k8s.io/v1beta1, what `kubectl top pod` reads), computed from its node's readings
/// on each request.
extension KindDefinition {
    public static let podMetrics = KindDefinition(
        group: "metrics.k8s.io", version: "v1beta1", kind: "PodMetrics",
        plural: "pods", singular: "", namespaced: true, computed: true)
}
