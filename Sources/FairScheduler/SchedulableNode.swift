import FairKube

/// The parts of a Node that decide which pods may go there. Equal values mean an update changed
/// nothing the scheduler cares about (a heartbeat), so waiting pods need not be retried.
struct SchedulableNode: Equatable, Sendable {
    var name: String
    var allocatable: ResourceAmounts
    var labels: [String: String]
    /// Only taints that keep pods away (NoSchedule, NoExecute).
    var taints: [Taint]
    var unschedulable: Bool
    var ready: Bool

    init(_ node: JSONValue) {
        name = node.name ?? ""
        // Allocatable is what pods may use; a node that reports only capacity offers all of it.
        allocatable = ResourceAmounts(list: node.value(at: "status.allocatable") ?? node.value(at: "status.capacity"))
        labels = node.labels
        taints = (node.value(at: "spec.taints")?.arrayValue ?? []).compactMap(Taint.init).filter(\.blocksScheduling)
        unschedulable = node.value(at: "spec.unschedulable")?.boolValue ?? false
        let conditions = node.value(at: "status.conditions")?.arrayValue ?? []
        ready = conditions.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
    }
}

/// What the pods placed on one node (bound, or assumed while their binding is in flight) take.
struct NodeUsage: Sendable {
    var requested = ResourceAmounts()
    var scoringMilliCPU: Int64 = 0
    var scoringMemory: Int64 = 0

    static let zero = NodeUsage()

    mutating func add(_ demand: PodDemand) {
        requested += demand.requests
        scoringMilliCPU += demand.scoringMilliCPU
        scoringMemory += demand.scoringMemory
    }

    mutating func remove(_ demand: PodDemand) {
        requested -= demand.requests
        scoringMilliCPU -= demand.scoringMilliCPU
        scoringMemory -= demand.scoringMemory
    }

    var isEmpty: Bool { requested.pods <= 0 }
}
