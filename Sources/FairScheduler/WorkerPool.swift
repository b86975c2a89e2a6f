import Foundation

/// A fixed set of threads running submitted jobs in order of submission: the scheduler's API
/// writes (bindings, status updates) are blocking calls, and a slow one must not hold up the
/// decision loop or the other writes.
final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var head = 0
    private var stopped = false
    private var running = 0

    init(name: String, threads: Int) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in work() }
            thread.name = "\(name) \(index)"
            running += 1
            thread.start()
        }
    }

    func submit(_ job: @escaping () -> Void) {
        condition.lock(); defer { condition.unlock() }
        guard !stopped else { return }
        jobs.append(job)
        condition.signal()
    }

    /// Jobs not yet started are dropped; waits (up to `timeout`) for running ones to end.
    func stop(timeout: TimeInterval = 30) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        stopped = true
        jobs.removeAll()
        head = 0
        condition.broadcast()
        while running > 0 && condition.wait(until: deadline) {}
    }

    /// Jobs waiting for a thread.
    var backlog: Int {
        condition.lock(); defer { condition.unlock() }
        return jobs.count - head
    }

    private func work() {
        while let job = next() { job() }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> (() -> Void)? {
        condition.lock(); defer { condition.unlock() }
        while head == jobs.count && !stopped { condition.wait() }
        guard !stopped else { return nil }
        let job = jobs[head]
        head += 1
        if head > 1024 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
