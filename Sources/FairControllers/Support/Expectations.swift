import FairSupport
import Foundation

/// What a controller has asked the API for and not yet seen come back through its informer
/// (client-go's ControllerExpectations). Until the informer catches up, a reconcile would count
/// too few pods and create them again; so a controller waits while its owner has expectations.
///
/// Creations are counted (a generated name is not known before the create returns, and the
/// informer may see the pod first); deletions are tracked by pod uid, so an unrelated deletion
/// cannot satisfy them. Expectations expire after `timeout`, in case an event is never seen.
final class Expectations: @unchecked Sendable {
    private struct Pending {
        var creations = 0
        var deletions: Set<String> = []
        var since: Date
    }

    private let lock = NSLock()
    private var pending: [String: Pending] = [:]
    let timeout: TimeInterval
    private let clock: WallClock

    init(timeout: TimeInterval = 120, clock: WallClock) {
        self.timeout = timeout
        self.clock = clock
    }

    func isSatisfied(_ owner: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let entry = pending[owner] else { return true }
        if entry.creations <= 0 && entry.deletions.isEmpty { return true }
        return clock.now.timeIntervalSince(entry.since) > timeout
    }

    /// Called before creating `count` objects for `owner`.
    func expectCreations(_ owner: String, count: Int) {
        lock.lock(); defer { lock.unlock() }
        var entry = fresh(owner)
        entry.creations += count
        pending[owner] = entry
    }

    /// Called before deleting the objects with these uids.
    func expectDeletions(_ owner: String, uids: [String]) {
        lock.lock(); defer { lock.unlock() }
        var entry = fresh(owner)
        entry.deletions.formUnion(uids)
        pending[owner] = entry
    }

    /// The informer saw a new object of `owner`'s, or a create failed and will not be seen.
    func creationObserved(_ owner: String) {
        lock.lock(); defer { lock.unlock() }
        guard var entry = pending[owner] else { return }
        entry.creations = max(0, entry.creations - 1)
        pending[owner] = entry
    }

    /// The informer saw the object go (or start terminating), or its delete failed.
    func deletionObserved(_ owner: String, uid: String) {
        lock.lock(); defer { lock.unlock() }
        pending[owner]?.deletions.remove(uid)
    }

    func forget(_ owner: String) {
        lock.lock(); defer { lock.unlock() }
        pending[owner] = nil
    }

    /// An entry whose earlier expectations all expired or were met starts its clock again.
    private func fresh(_ owner: String) -> Pending {
        guard let entry = pending[owner], entry.creations > 0 || !entry.deletions.isEmpty,
              clock.now.timeIntervalSince(entry.since) <= timeout else { return Pending(since: clock.now) }
        return entry
    }
}
