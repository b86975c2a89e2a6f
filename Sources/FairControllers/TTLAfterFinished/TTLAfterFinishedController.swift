import FairKube
import FairSupport
import Foundation

/// Deletes a finished Job once `spec.ttlSecondsAfterFinished` has passed since it finished
/// (its Complete or Failed condition), with its pods, as kube-controller-manager's
/// ttl-after-finished controller does. Level-triggered: each pass recomputes the deadline
/// from the Job as it is now, so a restart or a changed TTL never deletes early or forgets.
final class TTLAfterFinishedController: QueuedController {
    override var name: String { "ttl-after-finished" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let clock: WallClock

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        clock = context.clock
        super.init()
        informers.jobs.addHandler { [weak self] event in
            switch event {
            case let .added(job), let .updated(_, job):
                if job.value(at: "spec.ttlSecondsAfterFinished") != nil { self?.enqueue(Informer.key(job)) }
            case .deleted:
                break
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let job = informers.jobs.get(key), let name = job.name,
              job.value(at: "metadata.deletionTimestamp") == nil,
              let ttl = job.value(at: "spec.ttlSecondsAfterFinished")?.intValue,
              let finished = Self.finishedAt(job, now: clock.now) else { return .done }
        let remaining = finished.addingTimeInterval(TimeInterval(ttl)).timeIntervalSince(clock.now)
        if remaining > 0 { return .requeue(after: remaining) }
        do {
            // The uid precondition: a Job made again under the same name is not this one.
            try client.delete(.jobs, namespace: job.namespace, name: name, propagation: "Background", preconditionUID: job.uid)
        } catch let error as KubeError where error.code == 404 || error.code == 409 {
            return .done
        }
        return .done
    }

    /// When the Job finished: its Complete or Failed condition's transition (else its completion time).
    static func finishedAt(_ job: JSONValue, now: Date) -> Date? {
        let finished = (job.value(at: "status.conditions")?.arrayValue ?? []).first {
            ["Complete", "Failed"].contains($0["type"]?.stringValue ?? "") && $0["status"]?.stringValue == "True"
        }
        guard let finished else { return nil }
        return KubeTime.parse(finished["lastTransitionTime"]) ?? KubeTime.parse(job.value(at: "status.completionTime")) ?? now
    }
}
