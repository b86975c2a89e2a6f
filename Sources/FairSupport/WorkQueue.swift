import Foundation

/// Keys of objects that need handling, with client-go's work-queue semantics: a key waits at
/// most once however often it is added; a key added while it is being handled is handed out
/// again after `done`, so the same key is never handled twice at once; failures back off per
/// key; delayed adds keep only the soonest wake-up.
///
/// Keys are consumed either by workers that call `get`/`done`, or, after `process(on:…)`,
/// by jobs the queue submits to a thread pool itself (at most `concurrency` at a time), so a
/// hundred idle queues hold no threads.
public final class WorkQueue: @unchecked Sendable {
    /// Per-key exponential back-off for `addRateLimited`: `base` doubling up to `maximum`.
    public struct BackOff: Sendable {
        public var base: TimeInterval
        public var maximum: TimeInterval
        public init(base: TimeInterval, maximum: TimeInterval) {
            self.base = base
            self.maximum = maximum
        }
        /// client-go's default controller rate limiter: 5 ms doubling to 1000 s; 60 s here, so
        /// a conflict storm settles within a minute of its cause going away.
        public static let controller = BackOff(base: 0.005, maximum: 60)

        func delay(afterFailures count: Int) -> TimeInterval {
            min(maximum, base * pow(2, Double(min(count, 30))))
        }
    }

    private struct Consumer {
        let pool: ThreadPool
        let concurrency: Int
        let handler: (String) -> Void
    }

    public let clock: WallClock
    private let backOff: BackOff
    private let condition = NSCondition()
    private var ready: [String] = []
    private var head = 0
    private var waiting: Set<String> = []
    private var processing: Set<String> = []
    private var dirty: Set<String> = []
    private var wakeAt: [String: Date] = [:]
    private var failures: [String: Int] = [:]
    private var consumer: Consumer?
    private var active = 0
    private var shuttingDown = false

    public init(clock: WallClock = SystemClock.shared, backOff: BackOff = .controller) {
        self.clock = clock
        self.backOff = backOff
    }

    /// Hands every key to `handler` on `pool`, at most `concurrency` at once; `done` is called
    /// for it when the handler returns. Set once, before keys are consumed with `get`.
    public func process(on pool: ThreadPool = .shared, concurrency: Int = 1, _ handler: @escaping (String) -> Void) {
        condition.lock(); defer { condition.unlock() }
        consumer = Consumer(pool: pool, concurrency: max(1, concurrency), handler: handler)
        dispatchLocked()
    }

    public func add(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        addLocked(key)
    }

    /// Adds `key` once `delay` has passed (a retry, or a deadline to look at again), unless it
    /// is already due back sooner.
    public func add(_ key: String, after delay: TimeInterval) {
        guard delay > 0 else { return add(key) }
        condition.lock()
        let when = clock.now.addingTimeInterval(delay)
        if shuttingDown || (wakeAt[key].map { $0 <= when } ?? false) {
            condition.unlock()
            return
        }
        wakeAt[key] = when
        condition.unlock()
        clock.schedule(after: delay) { [weak self] in self?.wake(key, scheduled: when) }
    }

    /// Adds `key` after its back-off, which doubles with each failure until `forget`.
    public func addRateLimited(_ key: String) {
        condition.lock()
        let count = failures[key, default: 0]
        failures[key] = count + 1
        condition.unlock()
        add(key, after: backOff.delay(afterFailures: count))
    }

    /// Clears `key`'s back-off after it was handled cleanly.
    public func forget(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        failures[key] = nil
    }

    /// Failures counted for `key` since it was last forgotten.
    public func failureCount(_ key: String) -> Int {
        condition.lock(); defer { condition.unlock() }
        return failures[key, default: 0]
    }

    /// The next key, blocking until there is one; nil once shut down.
    public func get() -> String? {
        condition.lock(); defer { condition.unlock() }
        while head == ready.count && !shuttingDown { condition.wait() }
        // Once shut down, keys still queued are dropped: their owner is going away.
        guard !shuttingDown, let key = popLocked() else { return nil }
        return key
    }

    public func done(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        doneLocked(key)
    }

    private func doneLocked(_ key: String) {
        processing.remove(key)
        if dirty.remove(key) != nil { addLocked(key) }
        condition.broadcast()
    }

    /// Keys waiting to be handed out.
    public var depth: Int {
        condition.lock(); defer { condition.unlock() }
        return ready.count - head
    }

    /// Whether nothing waits, runs or is due back later: for tests that wait for a loop to settle.
    public var isIdle: Bool {
        condition.lock(); defer { condition.unlock() }
        return ready.count == head && processing.isEmpty && active == 0
    }

    /// Stops handing out keys; keys still queued or due later are dropped.
    public func shutDown() {
        condition.lock(); defer { condition.unlock() }
        shuttingDown = true
        wakeAt.removeAll()
        ready.removeAll()
        head = 0
        waiting.removeAll()
        condition.broadcast()
    }

    /// `shutDown`, then waits for the keys being handled to finish.
    public func shutDownAndWait() {
        shutDown()
        condition.lock(); defer { condition.unlock() }
        while !processing.isEmpty { condition.wait() }
    }

    private func wake(_ key: String, scheduled: Date) {
        condition.lock(); defer { condition.unlock() }
        // A sooner wake-up replaced this one and has already run; later work has its own timer.
        guard wakeAt[key] == scheduled else { return }
        wakeAt[key] = nil
        addLocked(key)
    }

    private func addLocked(_ key: String) {
        guard !shuttingDown else { return }
        if processing.contains(key) {
            dirty.insert(key)
            return
        }
        guard waiting.insert(key).inserted else { return }
        ready.append(key)
        if consumer == nil {
            condition.signal()
        } else {
            dispatchLocked()
        }
    }

    private func popLocked() -> String? {
        guard head < ready.count else { return nil }
        let key = ready[head]
        head += 1
        if head == ready.count {
            ready.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > ready.count {
            ready.removeFirst(head)
            head = 0
        }
        waiting.remove(key)
        processing.insert(key)
        return key
    }

    private func dispatchLocked() {
        guard let consumer else { return }
        while active < consumer.concurrency, !shuttingDown, let key = popLocked() {
            active += 1
            consumer.pool.submit { [self] in
                consumer.handler(key)
                condition.lock(); defer { condition.unlock() }
                active -= 1
                doneLocked(key)
                dispatchLocked()
            }
        }
    }
}
