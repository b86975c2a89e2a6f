import Foundation

/// Keys of one agent's work ("pod:<uid>", "node", "relist"), handled on the shared thread pool.
/// Like client-go's work queue: a key waits at most once however often it is added, and a key
/// added while it is being handled is handled again afterwards, never twice at the same time.
/// Delays use one process-wide dispatch timer queue rather than a sleeping thread per agent.
final class AgentWorkQueue: @unchecked Sendable {
    enum Outcome {
        case done
        case again(after: TimeInterval)
    }

    private static let timers = DispatchQueue(label: "fair.node.timers")

    private let lock = NSCondition()
    private let pool: ElasticThreadPool
    private var handler: ((String) throws -> Outcome)?
    private var onError: ((String, Error) -> Void)?
    private var queued: Set<String> = []
    private var running: Set<String> = []
    private var dirty: Set<String> = []
    private var wakeAt: [String: Date] = [:]
    private var failures: [String: Int] = [:]
    private var shutDown = false

    init(pool: ElasticThreadPool = .shared) {
        self.pool = pool
    }

    /// Set once, before the first `add`.
    func setHandler(_ handler: @escaping (String) throws -> Outcome, onError: @escaping (String, Error) -> Void) {
        lock.lock(); defer { lock.unlock() }
        self.handler = handler
        self.onError = onError
    }

    func add(_ key: String) {
        lock.lock(); defer { lock.unlock() }
        enqueueLocked(key)
    }

    /// Adds `key` once `delay` has passed, unless it is already due to come back sooner.
    func add(_ key: String, after delay: TimeInterval) {
        guard delay > 0 else { return add(key) }
        let when = Date().addingTimeInterval(delay)
        lock.lock()
        if shutDown {
            lock.unlock()
            return
        }
        if let scheduled = wakeAt[key], scheduled <= when, scheduled > Date() {
            lock.unlock()
            return
        }
        wakeAt[key] = when
        lock.unlock()
        Self.timers.asyncAfter(deadline: .now() + delay) { [weak self] in self?.wake(key, scheduled: when) }
    }

    private func wake(_ key: String, scheduled: Date) {
        lock.lock(); defer { lock.unlock() }
        // A sooner wake-up replaced this one and has already run; its own timer covers later work.
        guard wakeAt[key] == scheduled else { return }
        wakeAt[key] = nil
        enqueueLocked(key)
    }

    private func enqueueLocked(_ key: String) {
        guard !shutDown else { return }
        if running.contains(key) {
            dirty.insert(key)
            return
        }
        guard queued.insert(key).inserted else { return }
        pool.submit { [self] in process(key) }
    }

    private func process(_ key: String) {
        lock.lock()
        queued.remove(key)
        guard !shutDown, let handler else {
            lock.unlock()
            return
        }
        running.insert(key)
        lock.unlock()

        var retry: TimeInterval?
        var outcome = Outcome.done
        do {
            outcome = try handler(key)
            lock.lock()
            failures[key] = nil
            lock.unlock()
        } catch {
            onError?(key, error)
            lock.lock()
            let count = failures[key, default: 0]
            failures[key] = count + 1
            lock.unlock()
            // 0.2 s doubling to 30 s: a server away or a runtime hiccup, retried quietly.
            retry = min(30, 0.2 * pow(2, Double(min(count, 10))))
        }

        lock.lock()
        running.remove(key)
        if dirty.remove(key) != nil { enqueueLocked(key) }
        lock.broadcast()
        lock.unlock()
        if let retry {
            add(key, after: retry)
        } else if case let .again(after) = outcome {
            add(key, after: after)
        }
    }

    /// Stops taking work and waits for handlers in progress to return.
    func shutDownAndWait() {
        lock.lock(); defer { lock.unlock() }
        shutDown = true
        wakeAt.removeAll()
        while !running.isEmpty { lock.wait() }
    }
}
