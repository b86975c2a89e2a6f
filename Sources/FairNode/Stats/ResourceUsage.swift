import Foundation

/// CPU and memory use over the last sampling window, computed from two readings as
/// metrics-server computes it: CPU is the time used between them over the time between them,
/// memory the working set at the later one.
struct ResourceUsage: Sendable, Equatable {
    var cpuNanoCores: UInt64
    var memoryBytes: UInt64
    /// Seconds between the two readings.
    var window: TimeInterval
    /// When the later reading was taken.
    var time: Date

    init?(previous: CgroupSample, last: CgroupSample) {
        let window = last.uptime - previous.uptime
        // A counter that went back is another cgroup under the same name: no rate from it.
        guard window > 0, last.cpuNanoseconds >= previous.cpuNanoseconds else { return nil }
        cpuNanoCores = UInt64((Double(last.cpuNanoseconds - previous.cpuNanoseconds) / window).rounded())
        memoryBytes = last.workingSetBytes
        self.window = window
        time = last.time
    }
}

/// The last two readings of each cgroup a node samples (its containers, by container id, and
/// the node as a whole), enough for a rate; a key not sampled in a round is forgotten.
final class UsageHistory: @unchecked Sendable {
    private let lock = NSLock()
    private var readings: [String: (previous: CgroupSample?, last: CgroupSample)] = [:]

    /// One round of readings: every key sampled now, the rest gone.
    func record(_ samples: [String: CgroupSample]) {
        lock.withLock {
            var next: [String: (previous: CgroupSample?, last: CgroupSample)] = [:]
            for (key, sample) in samples {
                let last = readings[key]?.last
                // A new cgroup under an old key starts a new series.
                let continues = last.map { sample.cpuNanoseconds >= $0.cpuNanoseconds } ?? false
                next[key] = (continues ? last : nil, sample)
            }
            readings = next
        }
    }

    func usage(_ key: String) -> ResourceUsage? {
        lock.withLock {
            guard let entry = readings[key], let previous = entry.previous else { return nil }
            return ResourceUsage(previous: previous, last: entry.last)
        }
    }
}
