import FairKube
import Foundation

/// Graceful deletion, as kubelet does it: SIGTERM every container, SIGKILL what still runs when
/// the grace period ends, then remove containers, volumes, logs and the address, and finally
/// delete the pod from the API for good (`gracePeriodSeconds: 0`, only if it is still the same
/// pod). A pod deleted outright from the API goes the same way, minus the final delete.
extension PodSyncer {
    func terminate(_ record: PodRecord, stillInAPI pod: JSONValue?) throws -> ReconcileResult {
        let now = Date()
        let grace = pod?.metadata.deletionGracePeriodSeconds
            ?? record.pod.flatMap { Pod(json: $0).spec.terminationGracePeriodSeconds }
            ?? record.persisted.terminationGracePeriodSeconds ?? 30
        let ids = record.persisted.containers.values.compactMap(\.containerID)
        let running = ids.filter { if case .running = runtime.state(id: $0) { return true } else { return false } }

        if record.terminationDeadline == nil {
            record.terminationDeadline = now.addingTimeInterval(TimeInterval(max(0, grace)))
            for id in running { try? runtime.signal(id: id, grace <= 0 ? SIGKILL : SIGTERM) }
        }
        if !running.isEmpty {
            let deadline = record.terminationDeadline ?? now
            if now >= deadline && !record.killSent {
                for id in running { try? runtime.signal(id: id, SIGKILL) }
                record.killSent = true
            }
            // Poll for the exits: often at first (most processes stop within moments of SIGTERM),
            // then less, never past the deadline.
            let started = deadline.addingTimeInterval(-TimeInterval(max(0, grace)))
            let poll = now.timeIntervalSince(started) < 2 ? 0.1 : 0.5
            return .requeue(after: record.killSent ? poll : min(poll, max(0.01, deadline.timeIntervalSince(now))))
        }

        for id in ids { try? runtime.remove(id: id) }
        if let pod, let namespace = pod.namespace, let name = pod.name {
            do {
                try client.delete(.pods, namespace: namespace, name: name, gracePeriodSeconds: 0, preconditionUID: record.uid)
            } catch let error as KubeError where error.isNotFound || error.isConflict {
                // Already gone, or the name now belongs to a new pod: nothing of ours to delete.
            }
        }
        pulls.forget(prefix: record.uid + "/")
        try? store.remove(record.uid)
        addresses.release(record.uid)
        try? deviceAllocations.release(pod: record.uid)
        records.remove(record.uid)
        return .done
    }
}
