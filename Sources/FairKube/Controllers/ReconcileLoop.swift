import FairSupport
import Foundation

/// What a reconcile asks for next.
public enum ReconcileResult: Sendable {
    /// The object matches what is declared (or will be told of the next change through a watch).
    case done
    /// Look again after this long even without a change (deadlines, back-offs, heartbeats).
    case requeue(after: TimeInterval)
}

/// One controller: compares what is declared with what is, for one key, and acts to close the
/// gap. It must be level-triggered: read the current state from informers, never trust an event.
public protocol Reconciler: AnyObject {
    var name: String { get }
    func reconcile(_ key: String) throws -> ReconcileResult
}

/// Runs a reconciler over its queue: keys are handed to jobs on the shared thread pool, at most
/// `workers` at once, so an idle controller holds no thread. Errors (conflicts, a server away)
/// retry the key with back-off; they are logged, never fatal.
public final class ReconcileLoop: @unchecked Sendable {
    public let queue: WorkQueue
    private let reconciler: Reconciler
    private let workers: Int
    private let pool: ThreadPool
    private let log: (String) -> Void

    public init(_ reconciler: Reconciler, workers: Int = 1, clock: WallClock = SystemClock.shared, pool: ThreadPool = .shared,
                backOff: WorkQueue.BackOff = .controller, log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.reconciler = reconciler
        self.workers = workers
        self.pool = pool
        self.log = log
        queue = WorkQueue(clock: clock, backOff: backOff)
    }

    public func start() {
        queue.process(on: pool, concurrency: workers) { [self] key in handle(key) }
    }

    /// Stops handing out keys; reconciles in progress finish on their own.
    public func stop() { queue.shutDown() }

    private func handle(_ key: String) {
        do {
            switch try reconciler.reconcile(key) {
            case .done:
                queue.forget(key)
            case let .requeue(after):
                queue.forget(key)
                queue.add(key, after: after)
            }
        } catch let error as KubeError where error.isConflict || error.isNotFound {
            // Someone else changed it first: read the new state and try again, quietly.
            queue.addRateLimited(key)
        } catch {
            log("\(reconciler.name): \(key): \(error)")
            queue.addRateLimited(key)
        }
    }
}
