import FairKube
import Foundation

/// Which pods go first when a controller has too many (kube-controller-manager's
/// ActivePodsWithRanks): the ones that cost least to lose. Unscheduled before scheduled,
/// pending before running, not ready before ready, ready for less time before more, more
/// restarts before fewer, and newer before older.
enum PodDeletionOrder {
    static func sorted(_ pods: [JSONValue], now: Date) -> [JSONValue] {
        pods.sorted { cheaperToLose($0, than: $1, now: now) }
    }

    static func cheaperToLose(_ a: JSONValue, than b: JSONValue, now: Date) -> Bool {
        if a.isScheduled != b.isScheduled { return !a.isScheduled }
        let phaseA = phaseRank(a), phaseB = phaseRank(b)
        if phaseA != phaseB { return phaseA < phaseB }
        if a.isReadyPod != b.isReadyPod { return !a.isReadyPod }
        if a.isReadyPod, let sinceA = a.readySince, let sinceB = b.readySince, sinceA != sinceB {
            return sinceA > sinceB
        }
        if a.containerRestarts != b.containerRestarts { return a.containerRestarts > b.containerRestarts }
        let createdA = a.createdAt ?? .distantFuture, createdB = b.createdAt ?? .distantFuture
        if createdA != createdB { return createdA > createdB }
        return (a.name ?? "") > (b.name ?? "")
    }

    private static func phaseRank(_ pod: JSONValue) -> Int {
        switch pod.podPhase {
        case "Pending": return 0
        case "Unknown": return 1
        case "Running": return 2
        default: return 3
        }
    }
}
