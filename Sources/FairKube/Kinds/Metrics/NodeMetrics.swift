/// A node's CPU and memory use over its last sampling window (metrics.k8s.io/v1beta1, which
/// metrics-server serves on a real cluster and `kubectl top node` reads), computed from the
/// node agent's readings on each request.
extension KindDefinition {
    public static let nodeMetrics = KindDefinition(
        group: "metrics.k8s.io", version: "v1beta1", kind: "NodeMetrics",
        plural: "nodes", singular: "", namespaced: false, computed: true)
}
