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
        if CgroupMemoryEvents.isUnified {
            let directory = CgroupMemoryEvents.root + cgroupsPath
            guard let microseconds = value(of: "usage_usec", inStatFile: directory + "/cpu.stat"),
                  let current = number(in: directory + "/memory.current") else { return nil }
            let inactive = value(of: "inactive_file", inStatFile: directory + "/memory.stat") ?? 0
            return CgroupSample(cpuNanoseconds: microseconds * 1000, workingSetBytes: current > inactive ? current - inactive : 0,
                                uptime: uptime, time: time)
        }
        guard let cpuMount = CgroupMemoryEvents.v1Mounts["cpuacct"], let memoryMount = CgroupMemoryEvents.v1Mounts["memory"],
              let nanoseconds = number(in: cpuMount + cgroupsPath + "/cpuacct.usage"),
              let usage = number(in: memoryMount + cgroupsPath + "/memory.usage_in_bytes") else { return nil }
        // v1 counts the cgroup's descendants under `total_`.
        let inactive = value(of: "total_inactive_file", inStatFile: memoryMount + cgroupsPath + "/memory.stat") ?? 0
        return CgroupSample(cpuNanoseconds: nanoseconds, workingSetBytes: usage > inactive ? usage - inactive : 0, uptime: uptime, time: time)
    }

    private static func number(in path: String) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return UInt64(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The value of `key` in a `KEY VALUE` per line file (`cpu.stat`, `memory.stat`).
    static func value(of key: String, inStatFile path: String) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return value(of: key, inStat: String(decoding: data, as: UTF8.self))
    }

    static func value(of key: String, inStat text: String) -> UInt64? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == key { return UInt64(fields[1]) }
        }
        return nil
    }
}
