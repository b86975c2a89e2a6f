import Foundation

/// The time a loop reads and the timers it sets, injected so that tests move time by hand
/// instead of sleeping. Production code uses `SystemClock.shared`; tests use `ManualClock`.
public protocol WallClock: AnyObject, Sendable {
    var now: Date { get }
    /// Runs `work` once `delay` seconds have passed on this clock (on some other thread).
    func schedule(after delay: TimeInterval, _ work: @escaping @Sendable () -> Void)
}

/// The machine's clock; timers run on one process-wide dispatch queue rather than a sleeping
/// thread each.
public final class SystemClock: WallClock {
    public static let shared = SystemClock()
    private let timers = DispatchQueue(label: "fair.timers")

    private init() {}

    public var now: Date { Date() }

    public func schedule(after delay: TimeInterval, _ work: @escaping @Sendable () -> Void) {
        timers.asyncAfter(deadline: .now() + max(0, delay), execute: work)
    }
}

/// A clock that moves only when told to. `advance(by:)` runs the timers that fall due, in
/// order of their deadline, on the caller's thread.
public final class ManualClock: WallClock, @unchecked Sendable {
    private struct Timer {
        var deadline: Date
        var sequence: Int
        var work: @Sendable () -> Void
    }

    private let lock = NSLock()
    private var current: Date
    private var timers: [Timer] = []
    private var sequence = 0

    public init(now: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        current = now
    }

    public var now: Date {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    public func schedule(after delay: TimeInterval, _ work: @escaping @Sendable () -> Void) {
        lock.lock(); defer { lock.unlock() }
        sequence += 1
        timers.append(Timer(deadline: current.addingTimeInterval(max(0, delay)), sequence: sequence, work: work))
    }

    /// When the next timer falls due; nil when none is set.
    public var nextDeadline: Date? {
        lock.lock(); defer { lock.unlock() }
        return timers.map(\.deadline).min()
    }

    /// Timers set and not yet run.
    public var pendingTimers: Int {
        lock.lock(); defer { lock.unlock() }
        return timers.count
    }

    /// Moves time forward, running each timer whose deadline is reached as time passes it
    /// (a timer that sets another within the interval sees that one run too).
    public func advance(by interval: TimeInterval) {
        lock.lock()
        let end = current.addingTimeInterval(max(0, interval))
        lock.unlock()
        while true {
            lock.lock()
            guard let index = timers.indices.filter({ timers[$0].deadline <= end })
                .min(by: { (timers[$0].deadline, timers[$0].sequence) < (timers[$1].deadline, timers[$1].sequence) }) else {
                current = max(current, end)
                lock.unlock()
                return
            }
            let timer = timers.remove(at: index)
            current = max(current, timer.deadline)
            lock.unlock()
            timer.work()
        }
    }
}
