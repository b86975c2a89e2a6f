import FairSupport
import Foundation

/// Pods waiting for a scheduling attempt: an active FIFO, plus pods that failed and wait out a
/// back-off (1 s doubling to 10 s). A change in the cluster that may let them fit (a node added
/// or changed, a pod gone) moves every waiting pod back to the active queue at once.
final class SchedulingQueue: @unchecked Sendable {
    let initialBackoff: TimeInterval
    let maxBackoff: TimeInterval

    private let condition = NSCondition()
    private var active: [String] = []
    private var head = 0
    private var activeKeys: Set<String> = []
    /// Pods in back-off and until when; heap entries whose deadline differs here are stale.
    private var waitingUntil: [String: Date] = [:]
    private var backoff = DeadlineHeap()
    private var attempts: [String: Int] = [:]
    /// Bumped by every cluster change; an attempt that started before one saw an older cluster.
    private var moveCycle: UInt64 = 0
    private var closed = false
    /// Back-offs ending by this time are due, whatever the clock reads: a timer that fires a
    /// hair before its deadline by another clock still promotes its pod.
    private var dueThrough = Date.distantPast

    private let clock: WallClock

    init(initialBackoff: TimeInterval = 1, maxBackoff: TimeInterval = 10, clock: WallClock = SystemClock.shared) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.clock = clock
    }

    /// A new pod, or one whose spec changed: try it now.
    func add(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        waitingUntil[key] = nil
        activate(key)
    }

    /// The next pod to try, and the cycle it is tried in; blocks until there is one. Nil once closed.
    func pop() -> (key: String, cycle: UInt64)? {
        condition.lock(); defer { condition.unlock() }
        while !closed {
            promoteDue()
            if head < active.count {
                let key = active[head]
                head += 1
                if head > 1024 && head * 2 > active.count {
                    active.removeFirst(head)
                    head = 0
                }
                activeKeys.remove(key)
                return (key, moveCycle)
            }
            // A back-off's end is a timer on the clock that wakes this wait.
            condition.wait()
        }
        return nil
    }

    /// The attempt failed: retry after the pod's back-off, or at once if the cluster changed
    /// while the attempt was being made (its verdict is already stale).
    func backOff(_ key: String, cycle: UInt64) {
        condition.lock(); defer { condition.unlock() }
        let count = attempts[key, default: 0] + 1
        attempts[key] = count
        guard !activeKeys.contains(key) else { return }
        if cycle < moveCycle {
            activate(key)
            return
        }
        let delay = min(maxBackoff, initialBackoff * pow(2, Double(min(count - 1, 30))))
        let deadline = clock.now.addingTimeInterval(delay)
        waitingUntil[key] = deadline
        backoff.push(.init(deadline: deadline, key: key))
        clock.schedule(after: delay) { [weak self] in self?.wake(dueThrough: deadline) }
    }

    /// Something changed that may let waiting pods fit.
    func moveAllToActive() {
        condition.lock(); defer { condition.unlock() }
        moveCycle += 1
        guard !waitingUntil.isEmpty else { return }
        for key in waitingUntil.keys.sorted() { activate(key) }
        waitingUntil.removeAll()
        backoff.removeAll()
    }

    /// The pod was bound or is gone: drop its back-off history.
    func forget(_ key: String) {
        condition.lock(); defer { condition.unlock() }
        attempts[key] = nil
        waitingUntil[key] = nil
    }

    func attemptCount(_ key: String) -> Int {
        condition.lock(); defer { condition.unlock() }
        return attempts[key, default: 0]
    }

    /// Pods queued or backing off.
    var pendingCount: Int {
        condition.lock(); defer { condition.unlock() }
        return active.count - head + waitingUntil.count
    }

    func close() {
        condition.lock(); defer { condition.unlock() }
        closed = true
        condition.broadcast()
    }

    private func wake(dueThrough deadline: Date) {
        condition.lock(); defer { condition.unlock() }
        dueThrough = max(dueThrough, deadline)
        condition.signal()
    }

    private func activate(_ key: String) {
        guard activeKeys.insert(key).inserted else { return }
        active.append(key)
        condition.signal()
    }

    private func promoteDue() {
        let now = max(clock.now, dueThrough)
        while let entry = backoff.first, entry.deadline <= now {
            _ = backoff.popFirst()
            guard waitingUntil[entry.key] == entry.deadline else { continue }
            waitingUntil[entry.key] = nil
            activate(entry.key)
        }
    }
}
