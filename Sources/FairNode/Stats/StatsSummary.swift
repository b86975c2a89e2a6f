import FairKube
import Foundation

/// The node's usage in the shape of kubelet's Summary API (`GET /stats/summary`,
/// `k8s.io/kubelet/pkg/apis/stats/v1alpha1`), the fields metrics-server reads: per node and
/// per container, `cpu.usageNanoCores` and `memory.workingSetBytes` with their time. Each cpu
/// entry also carries `window`, the interval its rate was taken over (Go duration syntax),
/// which `kubectl top`'s metrics objects report. Containers without two readings yet are left
/// out, as kubelet leaves out what cAdvisor has not seen twice.
enum StatsSummary {
    struct Container {
        var name: String
        var usage: ResourceUsage
    }

    struct PodUsage {
        var namespace: String
        var name: String
        var uid: String
        var containers: [Container]
    }

    static func document(nodeName: String, node: ResourceUsage?, pods: [PodUsage]) -> JSONValue {
        var nodeStats: JSONValue = ["nodeName": .string(nodeName)]
        if let node {
            nodeStats["cpu"] = cpu(node)
            nodeStats["memory"] = memory(node)
        }
        let podStats: [JSONValue] = pods.filter { !$0.containers.isEmpty }.map { pod in
            ["podRef": ["name": .string(pod.name), "namespace": .string(pod.namespace), "uid": .string(pod.uid)],
             "containers": .array(pod.containers.map { container in
                 ["name": .string(container.name), "cpu": cpu(container.usage), "memory": memory(container.usage)]
             })]
        }
        return ["node": nodeStats, "pods": .array(podStats)]
    }

    private static func cpu(_ usage: ResourceUsage) -> JSONValue {
        ["time": .string(KubeTime.format(usage.time)), "usageNanoCores": .int(Int64(clamping: usage.cpuNanoCores)),
         "window": .string(goDuration(usage.window))]
    }

    private static func memory(_ usage: ResourceUsage) -> JSONValue {
        ["time": .string(KubeTime.format(usage.time)), "workingSetBytes": .int(Int64(clamping: usage.memoryBytes))]
    }

    /// `5.002s`: seconds with up to millisecond precision, as Go's `time.Duration.String`
    /// writes durations under a minute (longer windows do not occur).
    static func goDuration(_ seconds: TimeInterval) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        var fraction = String(format: "%03d", milliseconds % 1000)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(milliseconds / 1000).\(fraction)s"
    }
}
