import Foundation

/// One reading of a cgroup: the CPU time its processes have used so far and its memory working
/// set (usage less inactive file pages, which the kernel reclaims first: cAdvisor's figure, and
/// so the one `kubectl top` shows on a real cluster), with the monotonic time of the reading.
struct CgroupSample: Sendable, Equatable {
    var cpuNanoseconds: UInt64
    var workingSetBytes: UInt64
    /// Seconds of `ProcessInfo.systemUptime`: differences are intervals, whatever the clock does.
    var uptime: TimeInterval
    /// Wall-clock time of the reading, for the `timestamp` clients see.
    var time: Date

    /// Reads the cgroup runc was given as `cgroupsPath` (`/fair/NODE/ID`, or `/fair/NODE` for a
    /// node's pods together); nil when it is gone or its controllers are not mounted.
    static func read(cgroupsPath: String) -> CgroupSample? {
        let uptime = ProcessInfo.processInfo.systemUptime, time = Date()
        let unified = CgroupMemoryEvents.isUnified
        // v2 gives CPU in µs in cpu.stat; v1 in ns in its own hierarchy's cpuacct.usage.
        let nanoseconds: UInt64?
        if unified {
            nanoseconds = CgroupMemoryEvents.value(of: "usage_usec", inStatFile: CgroupMemoryEvents.root + cgroupsPath + "/cpu.stat").map { $0 * 1000 }
        } else {
            nanoseconds = CgroupMemoryEvents.v1Mounts["cpuacct"].flatMap { number(in: $0 + cgroupsPath + "/cpuacct.usage") }
        }
        guard let nanoseconds,
              let usage = CgroupMemoryEvents.memoryFile(cgroupsPath: cgroupsPath, v2: "memory.current", v1: "memory.usage_in_bytes")
                  .flatMap(number(in:)),
              let stat = CgroupMemoryEvents.memoryFile(cgroupsPath: cgroupsPath, v2: "memory.stat", v1: "memory.stat")
        else { return nil }
        // v1 counts the cgroup's descendants under `total_`.
        let inactive = CgroupMemoryEvents.value(of: unified ? "inactive_file" : "total_inactive_file", inStatFile: stat) ?? 0
        return CgroupSample(cpuNanoseconds: nanoseconds, workingSetBytes: usage > inactive ? usage - inactive : 0, uptime: uptime, time: time)
    }

    private static func number(in path: String) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return UInt64(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
