import Foundation

/// Durations of one kind of request, collected from many threads; summarised as percentiles.
final class LatencySamples: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: [Double] = []
    private(set) var failures = 0

    func record(_ duration: Double) {
        lock.lock(); defer { lock.unlock() }
        seconds.append(duration)
    }

    func recordFailure() {
        lock.lock(); defer { lock.unlock() }
        failures += 1
    }

    /// Times `body`, recording its duration, or a failure if it throws.
    func measure<T>(_ body: () throws -> T) rethrows -> T {
        let start = Clock.now()
        do {
            let result = try body()
            record(Clock.now() - start)
            return result
        } catch {
            recordFailure()
            throw error
        }
    }

    struct Summary: Sendable {
        var count: Int
        var failures: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    var summary: Summary {
        lock.lock()
        let sorted = seconds.sorted()
        let failures = self.failures
        lock.unlock()
        return Summary(count: sorted.count, failures: failures, p50: Self.percentile(sorted, 0.50),
                       p99: Self.percentile(sorted, 0.99), max: sorted.last ?? 0)
    }

    /// Nearest rank on sorted samples.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}

/// Monotonic seconds (wall-clock jumps must not distort measurements).
enum Clock {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
