import FairKube
import Foundation

/// Wakes a Job's follower the moment the Job or one of its pods changes, instead of it looking
/// every quarter second: one watch on the Job (by name) and one on its pods (by the `job-name`
/// label), each on a thread of its own. It only says *that* something changed; the follower then
/// reads the world afresh, so a missed or repeated event costs nothing. A watch that ends or
/// breaks (the API server restarting) is opened again, and each reopening counts as a change,
/// since events may have been missed meanwhile.
final class JobChanges: @unchecked Sendable {
    private let client: KubeClient
    private let namespace: String
    private let job: String
    private let condition = NSCondition()
    private var generation = 0
    private var stopped = false
    /// How long a watch stays open before it is renewed (the server also ends it then).
    private let watchSeconds = 30

    init(client: KubeClient, namespace: String, job: String) {
        self.client = client
        self.namespace = namespace
        self.job = job
    }

    /// Starts both watches; the count of changes seen so far is `current`.
    func start() {
        watchForever(.jobs, fieldSelector: "metadata.name=\(job)", labelSelector: nil)
        watchForever(.pods, fieldSelector: nil, labelSelector: "job-name=\(job)")
    }

    /// Ends the watches (each at its next event or when its server-side timeout ends it).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    var current: Int {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Waits until a change after `seen` (returns at once if there was one), or `timeout`
    /// passes: a safety net, should a watch be unavailable. Returns the count of changes now.
    @discardableResult
    func wait(after seen: Int, timeout: TimeInterval) -> Int {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while generation == seen && !stopped {
            if !condition.wait(until: deadline) { break }
        }
        return generation
    }

    /// Also for the follower's own news (a log stream that ended).
    func changed() {
        condition.lock()
        generation += 1
        condition.broadcast()
        condition.unlock()
    }

    private var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    private func watchForever(_ resource: APIResource, fieldSelector: String?, labelSelector: String?) {
        let thread = Thread { [self] in
            var resourceVersion: String?
            while !isStopped {
                var expired = false
                do {
                    let last = try client.watch(resource, namespace: namespace, resourceVersion: resourceVersion,
                                                labelSelector: labelSelector, fieldSelector: fieldSelector,
                                                timeoutSeconds: watchSeconds) { [self] type, _ in
                        if type == .error { expired = true; return false }  // e.g. 410 Gone: resume from now
                        if type != .bookmark { changed() }
                        return !isStopped
                    }
                    resourceVersion = expired ? nil : (last ?? resourceVersion)
                } catch {
                    // Gone (410: too old to resume), unreachable or refused: start afresh shortly;
                    // the follower's own reads notice whatever happened meanwhile.
                    resourceVersion = nil
                    if isStopped { return }
                    Thread.sleep(forTimeInterval: 0.5)
                }
                changed()
            }
        }
        thread.name = "fair-job-watch-\(resource.plural)"
        thread.start()
    }
}
