import FairKube

/// Deciding for a pod group (see `PodGroup`): its waiting pods are assumed onto nodes one after
/// another in one decision, and bound only if all of them fit; otherwise every assumption is
/// undone and each pod says why.
extension Scheduler {
    /// Whether the pod was decided here; false leaves it to the usual path (its group has
    /// started already: a replaced worker joins its running peers on its own).
    func scheduleGroup(_ group: PodGroup, cycle: UInt64) -> Bool {
        let members = pods.list(namespace: group.namespace) { group.contains($0) && !$0.isTerminating && !$0.podHasFinished }
        let placed = members.filter { $0.podNodeName != nil || cache.isPlaced(key: Informer.key($0), uid: $0.uid ?? "") }
        if placed.count >= group.minAvailable { return false }
        let waiting = members.filter { awaitsScheduling($0) && !cache.isPlaced(key: Informer.key($0), uid: $0.uid ?? "") }
            .sorted { Informer.key($0) < Informer.key($1) }
        guard placed.count + waiting.count >= group.minAvailable else {
            let message = group.waitingMessage(present: placed.count + waiting.count)
            for pod in waiting { holdBack(pod, message: message, cycle: cycle) }
            return true
        }
        var decided: [(pod: SchedulingPod, node: String)] = []
        var misfit: String?
        for pod in waiting {
            var candidate = SchedulingPod(pod)
            switch VolumeBinding(claims: claims, volumes: volumes, classes: storageClasses).verdict(for: pod) {
            case let .ready(terms):
                candidate.volumeTerms = terms
            case .provision:
                misfit = "pod group \"\(group.name)\": claims that wait for their first consumer are not provisioned for a pod group"
            case let .unschedulable(reason):
                misfit = group.misfitMessage(fitting: decided.count, needed: waiting.count,
                                             .onEveryNode(reason, nodeCount: cache.nodeCount))
            }
            if misfit != nil { break }
            switch cache.schedule(candidate) {
            case let .success(node):
                decided.append((candidate, node))
            case let .failure(failure):
                misfit = group.misfitMessage(fitting: decided.count, needed: waiting.count, failure)
            }
            if misfit != nil { break }
        }
        if let misfit {
            for (pod, _) in decided { cache.forget(key: pod.key, uid: pod.uid) }
            for pod in waiting { holdBack(pod, message: misfit, cycle: cycle) }
            return true
        }
        for (pod, node) in decided {
            writers?.submit { [self] in bind(pod, to: node, cycle: cycle) }
        }
        return true
    }
}
