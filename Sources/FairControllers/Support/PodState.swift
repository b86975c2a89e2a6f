import FairKube
import Foundation

/// How controllers read a pod: the phases and conditions they act on, in one place so every
/// controller agrees on what "active", "ready" and "available" mean.
extension JSONValue {
    var podPhase: String { Pod(json: self).status.phase ?? "Pending" }

    /// Being deleted: the API server set a deletionTimestamp and the node agent is stopping it.
    var isTerminating: Bool { Pod(json: self).metadata.isTerminating }

    /// Ran to the end; nothing will run in it again.
    var isFinishedPod: Bool { podPhase == "Succeeded" || podPhase == "Failed" }

    /// Counts toward a controller's replicas: neither finished nor on its way out.
    var isActivePod: Bool { !isFinishedPod && !isTerminating }

    var isScheduled: Bool { Pod(json: self).spec.nodeName != nil }

    func condition(_ type: String) -> JSONValue? {
        Pod(json: self).status.conditions[type]?.json
    }

    var isReadyPod: Bool { Pod(json: self).status.conditions["Ready"]?.isTrue ?? false }

    /// When the pod last became ready (nil while it is not ready).
    var readySince: Date? {
        let pod = Pod(json: self)
        guard let ready = pod.status.conditions["Ready"], ready.isTrue else { return nil }
        return ready.lastTransitionTime ?? pod.metadata.creationTimestamp
    }

    /// Ready for at least `minReadySeconds` (a ready pod without a transition time counts at once).
    func isAvailablePod(minReadySeconds: Int64, now: Date) -> Bool {
        guard isActivePod, isReadyPod else { return false }
        guard minReadySeconds > 0 else { return true }
        guard let since = readySince else { return true }
        return now.timeIntervalSince(since) >= Double(minReadySeconds)
    }

    /// Restarts of all containers, the measure of a crash-looping pod.
    var containerRestarts: Int64 {
        let statuses = (value(at: "status.containerStatuses")?.arrayValue ?? [])
            + (value(at: "status.initContainerStatuses")?.arrayValue ?? [])
        return statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
    }

    var createdAt: Date? { Pod(json: self).metadata.creationTimestamp }
}
