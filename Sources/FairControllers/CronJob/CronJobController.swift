import FairKube
import FairSupport
import Foundation

/// batch/v1 CronJobs, as kube-controller-manager's cronjob controller (v2) runs them: at each
/// time the schedule names (in `spec.timeZone`, else the controller manager's zone) a Job
/// `NAME-MINUTES` from the template, owned by the CronJob; `status.active`, `lastScheduleTime`
/// and `lastSuccessfulTime` kept from the Jobs; `concurrencyPolicy` Allow, Forbid (skip while
/// one runs) or Replace (delete the running ones first); no start later than
/// `startingDeadlineSeconds`; nothing while suspended; finished Jobs beyond the history limits
/// deleted, oldest first.
///
/// Level-triggered: each pass works out from the CronJob's status, its Jobs and the clock which
/// scheduled time is due, and asks to be woken just after the next one. Nothing is remembered
/// between passes, so after a restart (or a long pause) only the most recent missed time runs,
/// never a burst of catch-up Jobs.
final class CronJobController: QueuedController {
    override var name: String { "cronjob-controller" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder
    private let clock: WallClock
    private let defaultTimeZone: TimeZone

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        events = context.events("cronjob-controller")
        clock = context.clock
        defaultTimeZone = context.options.cronJobTimeZone
        super.init()
        informers.cronJobs.addHandler { [weak self] event in self?.cronJobChanged(event) }
        informers.jobs.addHandler { [weak self] event in self?.jobChanged(event) }
    }

    /// A new schedule is first looked at when it is next due, as in Kubernetes: a time the old
    /// schedule did not have is not run at once just because the schedule changed.
    private func cronJobChanged(_ event: InformerEvent) {
        let key = Informer.key(event.object)
        guard case let .updated(old, new) = event else { return enqueue(key) }
        let before = CronJob(json: old).spec, after = CronJob(json: new).spec
        guard before.schedule != after.schedule || before.timeZone != after.timeZone else { return enqueue(key) }
        let schedule: CronSchedule
        let timeZone: TimeZone?
        do {
            schedule = try CronSchedule(parsing: after.schedule ?? "")
            timeZone = try after.timeZone.map { try CronTimeZone.named($0) }
        } catch {
            events.record(new, .warning, reason: "UnParseableCronJobSchedule", message: "unparseable schedule for cronjob: \(after.schedule ?? "")")
            return
        }
        let times = ScheduledTimes(schedule: schedule, zone: timeZone ?? defaultTimeZone, cronJob: CronJob(json: new))
        guard let delay = times.delayUntilNext(now: clock.now) else { return enqueue(key) }
        queue?.add(key, after: delay)
    }

    private func jobChanged(_ event: InformerEvent) {
        if case let .updated(old, new) = event, let oldKey = old.controllerKey(ofKind: .cronJob),
           oldKey != new.controllerKey(ofKind: .cronJob) {
            enqueue(oldKey)
        }
        enqueue(event.object.controllerKey(ofKind: .cronJob))
    }

    // MARK: - Reconcile

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let cached = informers.cronJobs.get(key) else { return .done }
        let jobs = informers.jobs.list(namespace: cached.namespace) { $0.isControlled(by: cached) }
        var pass = CronJobPass(cronJob: cached)
        pruneHistory(&pass, jobs: jobs)
        let result: ReconcileResult
        do {
            result = try schedule(&pass, jobs: jobs, now: clock.now)
        } catch {
            // What was learnt before the failure is still written.
            try writeStatus(pass)
            throw error
        }
        try writeStatus(pass)
        return result
    }

    /// Keeps the newest `successfulJobsHistoryLimit` Jobs that completed and
    /// `failedJobsHistoryLimit` that failed; deletes the rest, oldest first.
    private func pruneHistory(_ pass: inout CronJobPass, jobs: [JSONValue]) {
        let spec = pass.cronJob.spec
        for (outcome, limit) in [("Complete", spec.successfulJobsHistoryLimit), ("Failed", spec.failedJobsHistoryLimit)] {
            guard let limit else { continue }
            let finished = jobs.filter { CronJobJobs.finished($0) == outcome }.sorted(by: CronJobJobs.byStartTime)
            for job in finished.prefix(max(0, finished.count - Int(limit))) {
                _ = deleteJob(job, of: &pass)
            }
        }
    }

    /// Brings `status.active` and `lastSuccessfulTime` up to date with the Jobs, then starts the
    /// Job that is due, if any. Returns when to look again.
    private func schedule(_ pass: inout CronJobPass, jobs: [JSONValue], now: Date) throws -> ReconcileResult {
        try reconcileActive(&pass, jobs: jobs)
        let cronJob = pass.cronJob
        guard !cronJob.metadata.isTerminating else { return .done }

        var timeZone: TimeZone?
        if let name = cronJob.spec.timeZone {
            do {
                timeZone = try CronTimeZone.named(name)
            } catch {
                record(pass, .warning, "UnknownTimeZone", "invalid timeZone: \(quoted(name)): \(error)")
                return .done
            }
        }
        if cronJob.spec.suspend == true { return .done }

        let scheduleText = cronJob.spec.schedule ?? ""
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(parsing: scheduleText)
        } catch {
            record(pass, .warning, "UnparseableSchedule", "unparseable schedule: \(quoted(scheduleText)) : \(error)")
            return .done
        }
        let times = ScheduledTimes(schedule: schedule, zone: timeZone ?? defaultTimeZone, cronJob: cronJob)
        let next = ReconcileResult.soonest(times.delayUntilNext(now: now))

        let due: (time: Date?, missed: ScheduledTimes.Missed)
        do {
            due = try times.mostRecent(now: now, withinDeadline: true)
        } catch {
            record(pass, .warning, "InvalidSchedule", "invalid schedule: \(scheduleText) : \(error)")
            return .done
        }
        guard let scheduled = due.time else { return next }
        if due.missed == .many {
            record(pass, .warning, "TooManyMissedTimes",
                   "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
        }
        if let deadline = cronJob.spec.startingDeadlineSeconds, scheduled.addingTimeInterval(TimeInterval(deadline)) < now {
            record(pass, .warning, "MissSchedule", "Missed scheduled time to start a job: \(Self.rfc1123(scheduled))")
            return next
        }
        let jobName = CronJobJobs.name(of: cronJob.metadata.name ?? "", scheduled: scheduled)
        if cronJob.status.active.contains(where: { $0.name == jobName }) || cronJob.status.lastScheduleTime == scheduled {
            return next  // this time has been handled
        }
        switch cronJob.spec.concurrencyPolicy {
        case "Forbid" where !cronJob.status.active.isEmpty:
            record(pass, .normal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
            return next
        case "Replace":
            for reference in cronJob.status.active {
                let job: JSONValue
                do {
                    job = try client.get(.jobs, namespace: reference.namespace ?? cronJob.metadata.namespace, name: reference.name ?? "")
                } catch {
                    record(pass, .warning, "FailedGet", "Get job: \(error)")
                    throw error
                }
                guard deleteJob(job, of: &pass) else {
                    throw CronJobError.couldNotReplace(namespace: job.namespace ?? "", name: job.name ?? "")
                }
            }
        default:
            break
        }
        return try startJob(&pass, scheduled: scheduled, timeZone: timeZone, next: next)
    }

    /// Takes finished Jobs off `status.active` and records the latest success; drops references to
    /// Jobs that are gone.
    private func reconcileActive(_ pass: inout CronJobPass, jobs: [JSONValue]) throws {
        for job in jobs {
            let outcome = CronJobJobs.finished(job)
            let listed = pass.isActive(uid: job.uid)
            if !listed && outcome == nil {
                // The cache may be older than the Job: our own status write may not be seen yet.
                let fresh = try client.get(.cronJobs, namespace: pass.cronJob.metadata.namespace, name: pass.cronJob.metadata.name ?? "")
                if CronJob(json: fresh).status.active.contains(where: { $0.uid == job.uid }) {
                    let changed = pass.statusChanged
                    pass = CronJobPass(cronJob: fresh)
                    pass.statusChanged = changed
                    continue
                }
                record(pass, .warning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: \(job.name ?? "")")
            } else if let outcome {
                if listed {
                    pass.removeActive(uid: job.uid)
                    record(pass, .normal, "SawCompletedJob", "Saw completed job: \(job.name ?? ""), condition: \(outcome)")
                }
                if outcome == "Complete", let completed = Job(json: job).status.completionTime,
                   pass.cronJob.status.lastSuccessfulTime.map({ completed > $0 }) ?? true {
                    pass.cronJob.status.lastSuccessfulTime = completed
                    pass.statusChanged = true
                }
            }
        }
        let known = Set(jobs.compactMap(\.uid))
        for reference in pass.cronJob.status.active where !known.contains(reference.uid ?? "") {
            // Not in the cache: ask the API before believing it is gone.
            do {
                _ = try client.get(.jobs, namespace: reference.namespace ?? pass.cronJob.metadata.namespace, name: reference.name ?? "")
            } catch let error as KubeError where error.isNotFound {
                record(pass, .normal, "MissingJob", "Active job went missing: \(reference.name ?? "")")
                pass.removeActive(uid: reference.uid)
            }
        }
    }

    /// Creates the Job for `scheduled` and lists it as active. A Job of that name that exists
    /// already is ours from a pass whose status write was lost: it is listed, not made again.
    private func startJob(_ pass: inout CronJobPass, scheduled: Date, timeZone: TimeZone?, next: ReconcileResult) throws -> ReconcileResult {
        let request = CronJobJobs.job(for: pass.json, scheduled: scheduled, timeZone: timeZone)
        let namespace = pass.cronJob.metadata.namespace
        var job: JSONValue
        do {
            job = try client.create(.jobs, namespace: namespace, request)
            record(pass, .normal, "SuccessfulCreate", "Created job \(job.name ?? "")")
        } catch let error as KubeError where error.code == 409 && error.reason == "AlreadyExists" {
            job = try client.get(.jobs, namespace: namespace, name: request.name ?? "")
            // Someone else's Job of that name: theirs to track.
            guard job.isControlled(by: pass.json), !pass.isActive(uid: job.uid) else { return next }
        } catch {
            record(pass, .warning, "FailedCreate", "Error creating job: \(error)")
            throw error
        }
        pass.cronJob.status.active.append(ObjectReference(to: job))
        pass.cronJob.status.lastScheduleTime = scheduled
        pass.statusChanged = true
        return next
    }

    /// Deletes a Job (its pods after it, in the background) and takes it off `status.active`.
    private func deleteJob(_ job: JSONValue, of pass: inout CronJobPass) -> Bool {
        guard let name = job.name else { return false }
        do {
            try client.delete(.jobs, namespace: job.namespace, name: name, propagation: "Background")
        } catch let error as KubeError where error.isNotFound {
            // Already gone: as good as deleted.
        } catch {
            record(pass, .warning, "FailedDelete", "Deleted job: \(error)")
            return false
        }
        if pass.isActive(uid: job.uid) { pass.removeActive(uid: job.uid) }
        record(pass, .normal, "SuccessfulDelete", "Deleted job \(name)")
        return true
    }

    private func writeStatus(_ pass: CronJobPass) throws {
        guard pass.statusChanged else { return }
        _ = try client.update(.cronJobs, pass.json, subresource: "status")
    }

    private func record(_ pass: CronJobPass, _ type: EventRecorder.EventType, _ reason: String, _ message: String) {
        events.record(pass.json, type, reason: reason, message: message)
    }

    private func quoted(_ text: String) -> String { String(decoding: JSONCoding.encodeBytes(.string(text)), as: UTF8.self) }

    /// Go's `time.RFC1123Z` in UTC, as kube words a missed time: `Mon, 02 Jan 2006 15:04:05 +0000`.
    static func rfc1123(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = CronTimeZone.utc
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
