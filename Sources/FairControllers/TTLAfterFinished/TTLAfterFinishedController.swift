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
                if Job(json: job).spec.ttlSecondsAfterFinished != nil { self?.enqueue(Informer.key(job)) }
            case .deleted:
                break
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let cached = informers.jobs.get(key) else { return .done }
        let job = Job(json: cached)
        guard let name = job.metadata.name, !job.metadata.isTerminating,
              let ttl = job.spec.ttlSecondsAfterFinished,
              let finished = Self.finishedAt(job, now: clock.now) else { return .done }
        let remaining = finished.addingTimeInterval(TimeInterval(ttl)).timeIntervalSince(clock.now)
        if remaining > 0 { return .requeue(after: remaining) }
        do {
            // The uid precondition: a Job made again under the same name is not this one.
            try client.delete(.jobs, namespace: job.metadata.namespace, name: name, propagation: "Background", preconditionUID: job.metadata.uid)
        } catch let error as KubeError where error.code == 404 || error.code == 409 {
            return .done
        }
        return .done
    }

    /// When the Job finished: its Complete or Failed condition's transition (else its completion time).
    static func finishedAt(_ job: Job, now: Date) -> Date? {
        let finished = job.status.conditions.first { ($0.type == "Complete" || $0.type == "Failed") && $0.isTrue }
        guard let finished else { return nil }
        return finished.lastTransitionTime ?? job.status.completionTime ?? now
    }
}
