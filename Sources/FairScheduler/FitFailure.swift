/// Why a pod fits no node, summarised as kube-scheduler does for the `PodScheduled` condition and
/// the `FailedScheduling` event: `0/3 nodes are available: 2 Insufficient cpu, 1 node(s) didn't
/// match Pod's node affinity/selector.`
struct FitFailure: Error, Equatable, Sendable {
    var nodeCount: Int
    /// How many nodes gave each reason (a node may give several: cpu and memory).
    var reasonCounts: [String: Int]

    static let noNodesReason = "no nodes available to schedule pods"

    /// One reason that holds on every node (a volume no node can reach).
    static func onEveryNode(_ reason: String, nodeCount: Int) -> FitFailure {
        FitFailure(nodeCount: nodeCount, reasonCounts: [reason: nodeCount])
    }

    /// Most common reason first, then alphabetical, so the message is stable across attempts.
    var message: String {
        guard nodeCount > 0 else { return "0/0 nodes are available: \(Self.noNodesReason)." }
        let parts = reasonCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.value) \($0.key)" }
        return "0/\(nodeCount) nodes are available: \(parts.joined(separator: ", "))."
    }
}
