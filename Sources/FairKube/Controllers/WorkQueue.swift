import Foundation

/// Keys of objects that need reconciling (client-go's workqueue). A key waits in the queue at
/// most once however often it is added; a key added while a worker holds it is handed out again
/// after `done`, so two workers never reconcile the same object at once.
public final class WorkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [String] = []
    private var head = 0
    private var waiting: Set<String> = []
    private var processing: Set<String> = []
    private var dirtyWhileProcessing: Set<String> = []
    private var failures: [String: Int] = [:]
    private var shuttingDown = false

    public init() {}

    public func add(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        guard !shuttingDown else { return }
        if processing.contains(key) {
            dirtyWhileProcessing.insert(key)
            return
        }
        guard waiting.insert(key).inserted else { return }
        queue.append(key)
        condition.signal()
    }

    /// Adds `key` once `delay` has passed (a retry, or a deadline to look at again).
    public func add(_ key: String, after delay: TimeInterval) {
        guard delay > 0 else { return add(key) }
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in self?.add(key) }
    }

    /// Adds `key` after a per-key exponential back-off (5 ms doubling to 60 s): for failures.
    public func addRateLimited(_ key: String) {
        condition.lock()
        let count = failures[key, default: 0]
        failures[key] = count + 1
        condition.unlock()
        add(key, after: min(60, 0.005 * pow(2, Double(min(count, 20)))))
    }

    /// Clears `key`'s back-off after it reconciled cleanly.
    public func forget(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        failures[key] = nil
    }

    /// The next key, blocking until there is one; nil once shut down.
    public func get() -> String? {
        condition.lock(); defer { condition.unlock() }
        while head == queue.count && !shuttingDown { condition.wait() }
        // Once shut down, keys still queued are dropped: their owner is going away.
        guard head < queue.count, !shuttingDown else { return nil }
        let key = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        waiting.remove(key)
        processing.insert(key)
        return key
    }

    public func done(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        processing.remove(key)
        if dirtyWhileProcessing.remove(key) != nil, waiting.insert(key).inserted {
            queue.append(key)
            condition.signal()
        }
    }

    public var depth: Int {
        condition.lock(); defer { condition.unlock() }
        return queue.count - head
    }

    public func shutDown() {
        condition.lock(); defer { condition.unlock() }
        shuttingDown = true
        condition.broadcast()
    }
}
