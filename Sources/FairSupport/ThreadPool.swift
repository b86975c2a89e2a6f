import Foundation

/// Threads for blocking work (API calls over libcurl, image pulls, probes, runc). The pool
/// grows up to `maxThreads` rather than queueing behind a blocked job, and a thread without
/// work for `idleTimeout` goes away, so a hundred idle users of the shared pool cost no threads.
/// Jobs start in the order they were submitted.
public final class ThreadPool: @unchecked Sendable {
    /// Shared by every loop of the process that does not need a bound of its own.
    public static let shared = ThreadPool(name: "fair worker", maxThreads: 64, idleTimeout: 30)

    private let condition = NSCondition()
    private let name: String
    private let maxThreads: Int
    private let idleTimeout: TimeInterval
    private var jobs: [() -> Void] = []
    private var head = 0
    private var threads = 0
    private var idle = 0
    private var running = 0
    private var stopped = false

    public init(name: String, maxThreads: Int, idleTimeout: TimeInterval = 30) {
        self.name = name
        self.maxThreads = max(1, maxThreads)
        self.idleTimeout = idleTimeout
    }

    /// Queues `job`; after `stop` it is dropped.
    public func submit(_ job: @escaping () -> Void) {
        condition.lock(); defer { condition.unlock() }
        guard !stopped else { return }
        jobs.append(job)
        if idle >= jobs.count - head || threads >= maxThreads {
            condition.signal()
        } else {
            threads += 1
            let thread = Thread { [self] in work() }
            thread.name = "\(name) \(threads)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Jobs waiting for a thread.
    public var backlog: Int {
        condition.lock(); defer { condition.unlock() }
        return jobs.count - head
    }

    /// Drops jobs not yet started and waits (up to `timeout`) for running ones to return.
    public func stop(timeout: TimeInterval = 30) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        stopped = true
        jobs.removeAll()
        head = 0
        condition.broadcast()
        while running > 0 && condition.wait(until: deadline) {}
    }

    private func work() {
        // So that `ps -L` and /proc tell pool threads apart.
        Thread.nameCurrent(name)
        condition.lock()
        while !stopped {
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    head = 0
                }
                running += 1
                condition.unlock()
                job()
                condition.lock()
                running -= 1
                if stopped { condition.broadcast() }
                continue
            }
            idle += 1
            let woken = condition.wait(until: Date().addingTimeInterval(idleTimeout))
            idle -= 1
            if !woken && head == jobs.count { break }
        }
        threads -= 1
        condition.unlock()
    }
}

/// Runs `body` for every item, at most `jobs` at a time, on the shared pool. The first error
/// stops new items from starting and is rethrown once the running ones have finished.
public func forEachInParallel<T>(_ items: [T], jobs: Int, pool: ThreadPool = .shared,
                                 _ body: @escaping (T) throws -> Void) throws {
    if items.isEmpty { return }
    let state = ParallelLoop(items)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(jobs, items.count)) {
        group.enter()
        pool.submit {
            defer { group.leave() }
            while let item = state.take() {
                do {
                    try body(item)
                } catch {
                    state.fail(error)
                    return
                }
            }
        }
    }
    group.wait()
    if let error = state.firstError { throw error }
}

/// The shared state of a parallel loop: the next item to hand out and the first error.
private final class ParallelLoop<T>: @unchecked Sendable {
    private let items: [T]
    private var next = 0
    private var error: Error?
    private let lock = NSLock()

    init(_ items: [T]) { self.items = items }

    func take() -> T? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, next < items.count else { return nil }
        next += 1
        return items[next - 1]
    }

    func fail(_ error: Error) {
        lock.lock(); defer { lock.unlock() }
        if self.error == nil { self.error = error }
    }

    var firstError: Error? {
        lock.lock(); defer { lock.unlock() }
        return error
    }
}
