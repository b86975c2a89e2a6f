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

/// Runs a reconciler's workers over its queue. Errors (conflicts, a server away) retry the key
/// with back-off; they are logged, never fatal.
public final class ReconcileLoop: @unchecked Sendable {
    public let queue = WorkQueue()
    private let reconciler: Reconciler
    private let workers: Int
    private let log: (String) -> Void

    public init(_ reconciler: Reconciler, workers: Int = 1,
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.reconciler = reconciler
        self.workers = workers
        self.log = log
    }

    public func start() {
        for index in 0..<workers {
            let thread = Thread { [self] in work() }
            thread.name = "\(reconciler.name) worker \(index)"
            thread.start()
        }
    }

    public func stop() { queue.shutDown() }

    private func work() {
        while let key = queue.get() {
            defer { queue.done(key) }
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
}
