import FairKube
import Foundation

/// How a finished pod of a Job ended.
enum PodOutcome: Sendable, Equatable {
    case succeeded, failed

    /// A pod's outcome as the Job counts it: its phase, or failed when it is being deleted
    /// before it succeeded (it will never finish on its own). Nil while it still runs.
    static func of(_ pod: JSONValue) -> PodOutcome? {
        switch pod.podPhase {
        case "Succeeded": return .succeeded
        case "Failed": return .failed
        default: return pod.isTerminating ? .failed : nil
        }
    }
}

/// Turns the pods a Job has (and those seen to go) into its `succeeded`/`failed` counts, each
/// pod counted exactly once however often this runs.
///
/// `status.countedPods` lists the uids of the pods already in the counts. It is written
/// atomically with the counts (one status update with a resourceVersion), so a restart never
/// counts a pod twice. A pod that finished and was deleted before a reconcile saw it (a node
/// lost, a user's delete) is counted from the deletion the informer reported (`gone`); a uid
/// leaves the list once that deletion was seen, since a deleted pod never comes back. (Only
/// then: a pod can leave the cache a moment before its deletion is reported.)
struct JobPodCounting {
    static let countedField = "countedPods"

    var succeeded: Int64
    var failed: Int64
    var counted: [String] = []
    var newlySucceeded = 0
    var newlyFailed = 0

    /// - Parameters:
    ///   - gone: uids of this Job's pods seen deleted, with how they ended.
    ///   - excused: uids of pods the controller deleted on purpose (too many, suspended), which
    ///     are not failures.
    init(status: JSONValue?, pods: [JSONValue], gone: [String: PodOutcome], excused: Set<String>) {
        let counts = JobStatus(json: status ?? .object([:]))
        succeeded = counts.succeeded ?? 0
        failed = counts.failed ?? 0
        let alreadyCounted = Set((status?[Self.countedField]?.arrayValue ?? []).compactMap(\.stringValue))
        var stillCounted = alreadyCounted.filter { gone[$0] == nil }
        var existing: Set<String> = []
        for pod in pods {
            guard let uid = pod.uid else { continue }
            existing.insert(uid)
            if alreadyCounted.contains(uid) { continue }
            // A pod deleted on purpose was active when it went: however it ends, it is no result.
            guard !excused.contains(uid), let outcome = PodOutcome.of(pod) else { continue }
            add(outcome)
            stillCounted.insert(uid)
        }
        for (uid, outcome) in gone.sorted(by: { $0.key < $1.key })
        where !alreadyCounted.contains(uid) && !existing.contains(uid) && !excused.contains(uid) {
            add(outcome)
        }
        counted = stillCounted.sorted()
    }

    private mutating func add(_ outcome: PodOutcome) {
        switch outcome {
        case .succeeded:
            succeeded += 1
            newlySucceeded += 1
        case .failed:
            failed += 1
            newlyFailed += 1
        }
    }
}
