import FairKube
import FairSupport
import Foundation

/// batch/v1 Jobs: runs pods from the template until `completions` succeed (for an Indexed Job,
/// until each index has succeeded once: see `JobIndexes`), replaces
/// failed ones until `backoffLimit` is passed, stops at `activeDeadlineSeconds`, and pauses
/// while `suspend` is set. Counts come from the pods (see `JobPodCounting`).
final class JobController: QueuedController {
    override var name: String { "job-controller" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let options: ControllerOptions
    private let events: EventRecorder
    let expectations: Expectations
    private let clock: WallClock
    private let memory = JobMemory()

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        options = context.options
        events = context.events("job-controller")
        clock = context.clock
        expectations = Expectations(clock: context.clock)
        super.init()
        informers.jobs.addHandler { [weak self] event in self?.jobChanged(event) }
        informers.pods.addHandler { [weak self] event in self?.podChanged(event) }
    }

    // MARK: - Events

    private func jobChanged(_ event: InformerEvent) {
        let key = Informer.key(event.object)
        if case let .deleted(job) = event {
            expectations.forget(key)
            memory.forget(jobKey: key, uid: job.uid)
        }
        enqueue(key)
    }

    private func podChanged(_ event: InformerEvent) {
        switch event {
        case let .added(pod):
            guard let key = pod.controllerKey(ofKind: .job) else { return }
            expectations.creationObserved(key)
            if pod.isTerminating, let uid = pod.uid { expectations.deletionObserved(key, uid: uid) }
            enqueue(key)
        case let .updated(old, new):
            let oldKey = old.controllerKey(ofKind: .job), newKey = new.controllerKey(ofKind: .job)
            if let newKey, new.isTerminating, let uid = new.uid { expectations.deletionObserved(newKey, uid: uid) }
            enqueue(newKey)
            if oldKey != newKey { enqueue(oldKey) }
        case let .deleted(pod):
            guard let key = pod.controllerKey(ofKind: .job), let uid = pod.uid else { return }
            expectations.deletionObserved(key, uid: uid)
            if let jobUID = pod.controllerReference?.uid {
                memory.podGone(job: jobUID, pod: uid, outcome: pod.podPhase == "Succeeded" ? .succeeded : .failed)
            }
            enqueue(key)
        }
    }

    // MARK: - Reconcile

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let cached = informers.jobs.get(key) else {
            expectations.forget(key)
            return .done
        }
        // Until the informer has seen our own creates and deletes, the pod list is behind.
        guard expectations.isSatisfied(key) else { return .requeue(after: expectations.timeout) }
        let job = memory.newest(cached)
        guard !job.isTerminating, let jobUID = job.uid else { return .done }
        let pods = informers.pods.list(namespace: job.namespace) { $0.isControlled(by: job) }
        let now = clock.now
        let status = Job(json: job).status
        var conditions = Conditions(status.json)

        if conditions.isTrue("Complete") || conditions.isTrue("Failed") {
            // Finished: nothing runs any more, and the counts are final.
            try deleteActive(pods.filter(\.isActivePod), of: job, key: key)
            var final = status
            final.active = 0
            final.ready = 0
            try writeStatus(job, final, now: now)
            return .done
        }

        let gone = memory.gonePods(job: jobUID)
        let counts = JobPodCounting(status: status.json, pods: pods, gone: gone, excused: memory.excusedPods(job: jobUID))
        var active = pods.filter(\.isActivePod)
        var newStatus = status
        newStatus.succeeded = counts.succeeded
        newStatus.failed = counts.failed
        // fair's own field (see JobPodCounting), so it is set on the JSON.
        newStatus.json[JobPodCounting.countedField] = counts.counted.isEmpty ? nil : .array(counts.counted.map { .string($0) })

        let spec = EffectiveJobSpec(job)
        var indexes: IndexState?
        if spec.indexed, let completions = spec.completions {
            var state = IndexState(completed: JobIndexes.completed(status: status.json, pods: pods, completions: Int(completions)))
            newStatus.json["completedIndexes"] = JobIndexes.format(state.completed).map(JSONValue.string)
            if let limit = spec.backoffLimitPerIndex {
                state.failureCounts = JobIndexes.failureCounts(pods: pods, excused: memory.excusedPods(job: jobUID))
                state.failed = JobIndexes.failed(status: status.json, failureCounts: state.failureCounts, limit: limit,
                                                 completions: Int(completions))
                newStatus.json["failedIndexes"] = .string(JobIndexes.format(state.failed) ?? "")
            }
            indexes = state
        }
        var requeue: TimeInterval?
        if let finish = finishReason(spec, counts: counts, indexes: indexes, pods: pods, active: active,
                                     status: status, now: now) {
            conditions.set(finish.type, status: "True", reason: finish.reason, message: finish.message,
                           now: KubeTime.format(now), probeField: "lastProbeTime")
            newStatus.json["conditions"] = conditions.json
            if finish.type == "Complete" { newStatus.completionTime = now }
            newStatus.active = 0
            newStatus.ready = 0
            try writeStatus(job, newStatus, countedGone: gone, counts: counts, now: now)
            try deleteActive(active, of: job, key: key)
            events.record(job, finish.type == "Complete" ? .normal : .warning, reason: finish.event, message: finish.message)
            return .done
        }

        if spec.suspend {
            try deleteActive(active, of: job, key: key)
            active = []
            if !conditions.isTrue("Suspended") {
                conditions.set("Suspended", status: "True", reason: "JobSuspended", message: "Job suspended",
                               now: KubeTime.format(now), probeField: "lastProbeTime")
                events.record(job, .normal, reason: "Suspended", message: "Job suspended")
            }
        } else {
            if conditions.isTrue("Suspended") {
                conditions.set("Suspended", status: "False", reason: "JobResumed", message: "Job resumed",
                               now: KubeTime.format(now), probeField: "lastProbeTime")
                // The deadline counts from the resume, as it does from the first start.
                newStatus.startTime = now
                events.record(job, .normal, reason: "Resumed", message: "Job resumed")
            } else if newStatus.startTime == nil {
                newStatus.startTime = now
            }
            let managed = try manageActive(job, spec: spec, counts: counts, indexes: indexes, active: active,
                                           key: key, now: now)
            active = managed.active
            requeue = managed.retryAfter
            if let deadline = spec.activeDeadlineSeconds, let start = newStatus.startTime {
                let remaining = start.addingTimeInterval(Double(deadline)).timeIntervalSince(now)
                requeue = min(requeue ?? .infinity, max(0.05, remaining))
            }
        }
        newStatus.json["conditions"] = conditions.json
        newStatus.active = Int64(active.count)
        newStatus.ready = Int64(active.filter(\.isReadyPod).count)
        try writeStatus(job, newStatus, countedGone: gone, counts: counts, now: now)
        return requeue.map { .requeue(after: $0) } ?? .done
    }

    private struct Finish {
        let type: String, reason: String, message: String, event: String
    }

    /// An Indexed Job's progress: indexes done, indexes failed for good (with a limit per
    /// index), and how often each index failed.
    private struct IndexState {
        var completed: Set<Int>
        var failed: Set<Int> = []
        var failureCounts: [Int: Int] = [:]
    }

    /// Whether the Job just finished, and how. Failure is checked first, as Kubernetes does.
    private func finishReason(_ spec: EffectiveJobSpec, counts: JobPodCounting, indexes: IndexState?, pods: [JSONValue],
                              active: [JSONValue], status: JobStatus, now: Date) -> Finish? {
        if counts.failed > spec.backoffLimit || restartsExceedBackoffLimit(spec, pods: pods) {
            return Finish(type: "Failed", reason: "BackoffLimitExceeded",
                          message: "Job has reached the specified backoff limit", event: "BackoffLimitExceeded")
        }
        if let indexes, spec.backoffLimitPerIndex != nil, let completions = spec.completions, !indexes.failed.isEmpty {
            let failed = JobIndexes.format(indexes.failed) ?? ""
            if let maxFailed = spec.maxFailedIndexes, indexes.failed.count > maxFailed {
                return Finish(type: "Failed", reason: "MaxFailedIndexesExceeded",
                              message: "Job has exceeded the specified maximal number of failed indexes (failed: \(failed))",
                              event: "MaxFailedIndexesExceeded")
            }
            if indexes.failed.count + indexes.completed.count >= completions {
                return Finish(type: "Failed", reason: "FailedIndexes", message: "Job has failed indexes (\(failed))",
                              event: "FailedIndexes")
            }
        }
        if !spec.suspend, let deadline = spec.activeDeadlineSeconds, let start = status.startTime,
           now.timeIntervalSince(start) >= Double(deadline) {
            return Finish(type: "Failed", reason: "DeadlineExceeded",
                          message: "Job was active longer than specified deadline", event: "DeadlineExceeded")
        }
        let complete: Bool
        if let indexes, let completions = spec.completions {
            complete = indexes.completed.count >= completions
        } else if let completions = spec.completions {
            complete = counts.succeeded >= completions
        } else {
            // A work queue: done once a pod succeeded and the rest have stopped.
            complete = counts.succeeded > 0 && active.isEmpty
        }
        if complete {
            return Finish(type: "Complete", reason: "CompletionsReached",
                          message: "Reached expected number of succeeded pods", event: "Completed")
        }
        return nil
    }

    /// With restartPolicy OnFailure a failing container restarts in place instead of failing its
    /// pod; Kubernetes counts those restarts toward the limit.
    private func restartsExceedBackoffLimit(_ spec: EffectiveJobSpec, pods: [JSONValue]) -> Bool {
        guard spec.restartPolicy == "OnFailure" else { return false }
        let restarts = pods.filter { ["Pending", "Running"].contains($0.podPhase) }.reduce(0) { $0 + $1.containerRestarts }
        return spec.backoffLimit == 0 ? restarts > 0 : restarts >= spec.backoffLimit
    }

    // MARK: - Pods

    /// Creates or deletes pods so `parallelism` (or fewer, near the end) run. Returns the active
    /// pods afterwards and when to look again if a failure back-off holds creations back.
    private func manageActive(_ job: JSONValue, spec: EffectiveJobSpec, counts: JobPodCounting, indexes: IndexState?,
                              active: [JSONValue], key: String, now: Date) throws -> (active: [JSONValue], retryAfter: TimeInterval?) {
        var wanted = spec.parallelism
        if let indexes, let completions = spec.completions {
            wanted = min(wanted, max(0, completions - Int64(indexes.completed.count + indexes.failed.count)))
        } else if let completions = spec.completions {
            wanted = min(wanted, max(0, completions - counts.succeeded))
        } else if counts.succeeded > 0 {
            wanted = min(wanted, Int64(active.count))  // a work queue that has started finishing
        }
        if active.count > wanted {
            let excess = Array(PodDeletionOrder.sorted(active, now: now).prefix(active.count - Int(wanted)))
            try deleteActive(excess, of: job, key: key)
            let removed = Set(excess.compactMap(\.uid))
            return (active.filter { !removed.contains($0.uid ?? "") }, nil)
        }
        let missing = Int(wanted) - active.count
        guard missing > 0, let jobUID = job.uid else { return (active, nil) }

        // Failed pods are replaced after a back-off, so a crashing Job does not spin.
        // (The outcomes counted now are remembered once the status with them is written.)
        var backoff = memory.backoff(job: jobUID)
        backoff.record(failed: counts.newlyFailed, succeeded: counts.newlySucceeded, at: now)
        let remaining = backoff.remaining(base: options.jobBackoffBase, maximum: options.jobBackoffMax, now: now)
        if remaining > 0 { return (active, remaining) }

        var created: [JSONValue] = []
        expectations.expectCreations(key, count: missing)
        let labels = ["job-name": job.name ?? "", "batch.kubernetes.io/job-name": job.name ?? "",
                      "controller-uid": jobUID, "batch.kubernetes.io/controller-uid": jobUID]
        let template = PodTemplate.pod(from: Job(json: job).spec.template, owner: job, kind: .job, extraLabels: labels)
        // An Indexed Job's pods each run one index not yet done and not running.
        let toRun = indexes.map {
            JobIndexes.missing(completions: Int(spec.completions ?? 0), completed: $0.completed, failed: $0.failed, active: active, count: missing)
        }
        let creations = toRun?.count ?? missing
        if creations < missing { for _ in creations..<missing { expectations.creationObserved(key) } }
        for position in 0..<creations {
            do {
                let body = toRun.map {
                    let index = $0[position]
                    let failures = spec.backoffLimitPerIndex == nil ? nil : indexes?.failureCounts[index] ?? 0
                    return JobIndexes.pod(template, index: index, jobName: job.name ?? "job", earlierFailures: failures)
                } ?? template
                let pod = try client.create(.pods, namespace: job.namespace, body)
                created.append(pod)
                events.record(job, .normal, reason: "SuccessfulCreate", message: "Created pod: \(pod.name ?? "")")
            } catch {
                // The rest will not be created now, so their creations will never be observed.
                for _ in position..<creations { expectations.creationObserved(key) }
                events.record(job, .warning, reason: "FailedCreate", message: "Error creating: \(error)")
                throw error
            }
        }
        return (active + created, nil)
    }

    private func deleteActive(_ pods: [JSONValue], of job: JSONValue, key: String) throws {
        guard !pods.isEmpty, let jobUID = job.uid else { return }
        expectations.expectDeletions(key, uids: pods.compactMap(\.uid))
        var firstError: Error?
        for pod in pods {
            guard let uid = pod.uid, let name = pod.name else { continue }
            memory.excuse(job: jobUID, pod: uid)
            do {
                try client.delete(.pods, namespace: pod.namespace, name: name, preconditionUID: uid)
                events.record(job, .normal, reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
            } catch {
                expectations.deletionObserved(key, uid: uid)
                if let error = error as? KubeError, error.isNotFound { continue }
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    // MARK: - Status

    /// Writes the status when it changed, against the resourceVersion it was computed from: a
    /// conflict means someone else counted meanwhile, and the reconcile starts over.
    private func writeStatus(_ job: JSONValue, _ status: JobStatus, countedGone: [String: PodOutcome] = [:],
                             counts: JobPodCounting? = nil, now: Date) throws {
        var updated = Job(json: job)
        guard status.json != updated.status.json else { return }
        updated.status = status
        let written = try client.update(.jobs, updated.json, subresource: "status")
        memory.wrote(written)
        guard let uid = job.uid else { return }
        memory.forgetGone(job: uid, pods: countedGone.keys)
        if let counts { memory.recordOutcomes(job: uid, failed: counts.newlyFailed, succeeded: counts.newlySucceeded, at: now) }
    }
}
