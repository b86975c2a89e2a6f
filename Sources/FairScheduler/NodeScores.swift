/// The scoring plugins of kube-scheduler's default profile that apply here, each 0...100 with
/// weight 1: NodeResourcesFit's LeastAllocated (prefer emptier nodes, so pods spread) and
/// NodeResourcesBalancedAllocation (prefer nodes whose cpu and memory stay in proportion).
enum NodeScores {
    static let maxScore: Int64 = 100

    static func total(_ pod: SchedulingPod, _ node: SchedulableNode, _ usage: NodeUsage) -> Int64 {
        leastAllocated(pod, node, usage) + balancedAllocation(pod, node, usage)
    }

    /// Free share of cpu and memory after placing the pod, averaged. Uses the non-zero requests,
    /// so pods without requests still count for something.
    static func leastAllocated(_ pod: SchedulingPod, _ node: SchedulableNode, _ usage: NodeUsage) -> Int64 {
        let cpu = leastRequested(usage.scoringMilliCPU + pod.demand.scoringMilliCPU, node.allocatable.milliCPU)
        let memory = leastRequested(usage.scoringMemory + pod.demand.scoringMemory, node.allocatable.memory)
        return (cpu + memory) / 2
    }

    private static func leastRequested(_ requested: Int64, _ capacity: Int64) -> Int64 {
        guard capacity > 0, requested <= capacity else { return 0 }
        return (capacity - requested) * maxScore / capacity
    }

    /// 100 × (1 − standard deviation of the cpu and memory fractions in use after placing the pod).
    static func balancedAllocation(_ pod: SchedulingPod, _ node: SchedulableNode, _ usage: NodeUsage) -> Int64 {
        let cpu = fraction(usage.requested.milliCPU + pod.demand.requests.milliCPU, node.allocatable.milliCPU)
        let memory = fraction(usage.requested.memory + pod.demand.requests.memory, node.allocatable.memory)
        // With two resources the standard deviation is half their difference.
        let deviation = abs(cpu - memory) / 2
        return Int64((1 - deviation) * Double(maxScore))
    }

    private static func fraction(_ requested: Int64, _ capacity: Int64) -> Double {
        guard capacity > 0 else { return 1 }
        return min(1, Double(requested) / Double(capacity))
    }
}
