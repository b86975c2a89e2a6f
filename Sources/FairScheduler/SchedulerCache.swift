import FairKube
import Foundation

/// The scheduler's view of the cluster: the nodes, and what every pod placed on them takes.
/// A pod counts from the moment the scheduler picks its node ("assumed", as in kube-scheduler),
/// not from when the informer sees the binding: otherwise a burst of pods would all be put on
/// the same emptiest node before the first binding came back. The informer then confirms the
/// placement; a failed binding forgets it.
final class SchedulerCache: @unchecked Sendable {
    struct Placement {
        var uid: String
        var node: String
        var demand: PodDemand
        /// Bound by us, binding not yet seen through the watch.
        var assumed: Bool
    }

    private let lock = NSLock()
    private var nodes: [SchedulableNode] = []
    private var nodeIndex: [String: Int] = [:]
    /// By node name; pods may sit on a node the cache has not seen (yet), so this is not on `nodes`.
    private var usage: [String: NodeUsage] = [:]
    private var placements: [String: Placement] = [:]
    private var random = SplitMix64(seed: UInt64(truncatingIfNeeded: Date().timeIntervalSince1970.bitPattern))

    // MARK: - Nodes

    /// Adds or replaces a node; true when something pods are filtered or scored on changed.
    @discardableResult
    func setNode(_ node: SchedulableNode) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if let index = nodeIndex[node.name] {
            guard nodes[index] != node else { return false }
            nodes[index] = node
        } else {
            nodeIndex[node.name] = nodes.count
            nodes.append(node)
        }
        return true
    }

    func removeNode(named name: String) {
        lock.lock(); defer { lock.unlock() }
        guard let index = nodeIndex.removeValue(forKey: name) else { return }
        let last = nodes.removeLast()
        if index < nodes.count {
            nodes[index] = last
            nodeIndex[last.name] = index
        }
    }

    var nodeCount: Int {
        lock.lock(); defer { lock.unlock() }
        return nodes.count
    }

    func usage(of node: String) -> NodeUsage {
        lock.lock(); defer { lock.unlock() }
        return usage[node] ?? .zero
    }

    // MARK: - Pods

    /// Records a pod as the informer now sees it. True when that released resources (the pod
    /// finished), which may let waiting pods fit.
    @discardableResult
    func updatePod(_ pod: JSONValue) -> Bool {
        let key = Informer.key(pod)
        let uid = pod.uid ?? ""
        lock.lock(); defer { lock.unlock() }
        let existing = placements[key]
        if let node = pod.podNodeName, !pod.podHasFinished {
            if let existing, existing.uid == uid, existing.node == node {
                placements[key]?.assumed = false
                return false
            }
            if let existing { release(key, existing) }
            place(key, Placement(uid: uid, node: node, demand: PodDemand(pod: pod), assumed: false))
            return false
        }
        guard let existing else { return false }
        // Our binding is in flight and the watch has not caught up: keep counting the pod.
        if existing.assumed && existing.uid == uid && !pod.podHasFinished { return false }
        release(key, existing)
        return true
    }

    /// The pod is gone; true when it held resources.
    @discardableResult
    func removePod(_ pod: JSONValue) -> Bool {
        let key = Informer.key(pod)
        lock.lock(); defer { lock.unlock() }
        guard let existing = placements[key], pod.uid == nil || existing.uid == pod.uid else { return false }
        release(key, existing)
        return true
    }

    /// Whether the pod already has a node here (bound, or assumed while its binding is in flight).
    func isPlaced(key: String, uid: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return placements[key]?.uid == uid
    }

    /// A failed binding: the pod no longer takes room on the node it was assumed onto.
    func forget(key: String, uid: String) {
        lock.lock(); defer { lock.unlock() }
        guard let existing = placements[key], existing.uid == uid, existing.assumed else { return }
        release(key, existing)
    }

    var assumedCount: Int {
        lock.lock(); defer { lock.unlock() }
        return placements.values.filter(\.assumed).count
    }

    private func place(_ key: String, _ placement: Placement) {
        placements[key] = placement
        usage[placement.node, default: .zero].add(placement.demand)
    }

    private func release(_ key: String, _ placement: Placement) {
        placements[key] = nil
        usage[placement.node]?.remove(placement.demand)
        if usage[placement.node]?.isEmpty == true { usage[placement.node] = nil }
    }

    // MARK: - Deciding

    /// Filters every node, scores those that fit, and assumes the pod onto the best (ties broken
    /// at random, so equal nodes share the load). One lock for the whole decision: the next pod
    /// sees this one's resources taken.
    func schedule(_ pod: SchedulingPod) -> Result<String, FitFailure> {
        lock.lock(); defer { lock.unlock() }
        var reasonCounts: [String: Int] = [:]
        var best: Int64 = -1
        var chosen = -1
        var ties: UInt64 = 0
        for index in nodes.indices {
            let node = nodes[index]
            let used = usage[node.name] ?? .zero
            let reasons = NodeFilters.reasons(pod, node, used)
            if !reasons.isEmpty {
                for reason in reasons { reasonCounts[reason, default: 0] += 1 }
                continue
            }
            let score = NodeScores.total(pod, node, used)
            if score > best {
                best = score
                chosen = index
                ties = 1
            } else if score == best {
                // Reservoir sampling: each of the equally good nodes ends up chosen with equal chance.
                ties += 1
                if random.next() % ties == 0 { chosen = index }
            }
        }
        guard chosen >= 0 else { return .failure(FitFailure(nodeCount: nodes.count, reasonCounts: reasonCounts)) }
        let node = nodes[chosen].name
        if let previous = placements[pod.key] { release(pod.key, previous) }
        place(pod.key, Placement(uid: pod.uid, node: node, demand: pod.demand, assumed: true))
        return .success(node)
    }
}
