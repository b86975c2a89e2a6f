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
        let node = Node(json: node)
        allocatable = ResourceAmounts(list: node.status.allocatable ?? node.status.capacity)
        labels = node.metadata.labels
        taints = node.spec.taints.compactMap(Taint.init).filter(\.blocksScheduling)
        unschedulable = node.spec.unschedulable ?? false
        ready = node.status.conditions["Ready"]?.isTrue ?? false
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
