import FairKube
import FairSupport
import Foundation

/// A reconciler with the queue its loop feeds it from, so informer handlers can add keys.
/// Subclasses implement `sync`; once stopped, keys still queued are dropped unread instead of
/// costing a round of API calls each.
class QueuedController: Reconciler {
    var name: String { "controller" }
    /// Set once by the manager before any informer starts.
    var queue: WorkQueue?
    private let lock = NSLock()
    private var stopped = false

    final func reconcile(_ key: String) throws -> ReconcileResult {
        lock.lock()
        let stopped = self.stopped
        lock.unlock()
        return stopped ? .done : try sync(key)
    }

    /// One level-triggered pass over the object named by `key`.
    func sync(_ key: String) throws -> ReconcileResult { .done }

    func stop() {
        lock.lock(); defer { lock.unlock() }
        stopped = true
    }

    func enqueue(_ key: String?) {
        guard let key, !key.isEmpty else { return }
        queue?.add(key)
    }
}
