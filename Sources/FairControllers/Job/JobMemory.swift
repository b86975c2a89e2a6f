import FairKube
import Foundation

/// What the Job controller remembers between reconciles that the API cannot tell it: pods seen
/// deleted and not yet counted, pods it deleted on purpose, the failure back-off, and the Job
/// status it last wrote (newer than the informer's copy until the watch catches up). Losing it
/// in a restart costs at most a missed count of a pod deleted while the controller was down.
final class JobMemory: @unchecked Sendable {
    struct Backoff {
        var failuresSinceSuccess = 0
        var lastFailure = Date.distantPast

        /// A success resets the count; failures add to it and restart the clock.
        mutating func record(failed: Int, succeeded: Int, at now: Date) {
            if succeeded > 0 { failuresSinceSuccess = 0 }
            if failed > 0 {
                failuresSinceSuccess += failed
                lastFailure = now
            }
        }

        /// How long creations still wait: `base` doubled per failure since the last success.
        func remaining(base: TimeInterval, maximum: TimeInterval, now: Date) -> TimeInterval {
            guard failuresSinceSuccess > 0 else { return 0 }
            let delay = min(maximum, base * pow(2, Double(failuresSinceSuccess - 1)))
            return max(0, lastFailure.addingTimeInterval(delay).timeIntervalSince(now))
        }
    }

    private let lock = NSLock()
    private var gone: [String: [String: PodOutcome]] = [:]     // job uid → pod uid → outcome
    private var excused: [String: Set<String>] = [:]           // job uid → pod uids
    private var backoff: [String: Backoff] = [:]               // job uid
    private var written: [String: JSONValue] = [:]             // job key → job as last written

    func podGone(job: String, pod: String, outcome: PodOutcome) {
        lock.lock(); defer { lock.unlock() }
        gone[job, default: [:]][pod] = outcome
    }

    func gonePods(job: String) -> [String: PodOutcome] {
        lock.lock(); defer { lock.unlock() }
        return gone[job] ?? [:]
    }

    /// After a status write that counted them.
    func forgetGone(job: String, pods: Dictionary<String, PodOutcome>.Keys) {
        lock.lock(); defer { lock.unlock() }
        for pod in pods { gone[job]?[pod] = nil }
    }

    func excuse(job: String, pod: String) {
        lock.lock(); defer { lock.unlock() }
        excused[job, default: []].insert(pod)
    }

    func excusedPods(job: String) -> Set<String> {
        lock.lock(); defer { lock.unlock() }
        return excused[job] ?? []
    }

    func backoff(job: String) -> Backoff {
        lock.lock(); defer { lock.unlock() }
        return backoff[job] ?? Backoff()
    }

    func recordOutcomes(job: String, failed: Int, succeeded: Int, at now: Date) {
        lock.lock(); defer { lock.unlock() }
        var entry = backoff[job] ?? Backoff()
        entry.record(failed: failed, succeeded: succeeded, at: now)
        backoff[job] = entry
    }

    func wrote(_ job: JSONValue) {
        lock.lock(); defer { lock.unlock() }
        written[Informer.key(job)] = job
    }

    /// The newer of the cached Job and the one last written (same uid, higher resourceVersion).
    func newest(_ cached: JSONValue) -> JSONValue {
        lock.lock(); defer { lock.unlock() }
        let key = Informer.key(cached)
        guard let mine = written[key] else { return cached }
        guard mine.uid == cached.uid,
              let ours = mine.resourceVersion.flatMap(Int64.init),
              let theirs = cached.resourceVersion.flatMap(Int64.init), ours > theirs else {
            written[key] = nil
            return cached
        }
        return mine
    }

    func forget(jobKey: String, uid: String?) {
        lock.lock(); defer { lock.unlock() }
        written[jobKey] = nil
        if let uid {
            gone[uid] = nil
            excused[uid] = nil
            backoff[uid] = nil
        }
    }
}
