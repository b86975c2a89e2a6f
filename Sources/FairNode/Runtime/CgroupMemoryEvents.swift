import Foundation

/// How many processes the kernel killed for running out of memory in one cgroup. Read after the
/// container exits: its cgroup stays until the container is removed (`runc run --keep`).
enum CgroupMemoryEvents {
    static let root = "/sys/fs/cgroup"

    /// True on a cgroup v2 (unified) host.
    static var isUnified: Bool { FileManager.default.fileExists(atPath: "\(root)/cgroup.controllers") }

    /// `oom_kill` of the cgroup (v2 `memory.events`, v1 `memory.oom_control`); 0 when unknown.
    static func oomKills(cgroupsPath: String) -> Int64 {
        guard let file = memoryFile(cgroupsPath: cgroupsPath, v2: "memory.events", v1: "memory.oom_control"),
              let count = value(of: "oom_kill", inStatFile: file)
        else { return 0 }
        return Int64(clamping: count)
    }

    /// The value of `key` in a `KEY VALUE` per line file (`memory.events`, `memory.stat`,
    /// `cpu.stat`); nil when the file or the key is missing.
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

    /// The path of a memory controller file of `cgroupsPath`, for the cgroup version in use.
    static func memoryFile(cgroupsPath: String, v2: String, v1: String) -> String? {
        if isUnified { return "\(root)\(cgroupsPath)/\(v2)" }
        guard let mount = v1MemoryMount() else { return nil }
        return "\(mount)\(cgroupsPath)/\(v1)"
    }

    /// Where the v1 memory hierarchy is mounted (normally /sys/fs/cgroup/memory).
    static func v1MemoryMount() -> String? { v1Mounts["memory"] }

    /// Where each v1 controller's hierarchy is mounted (`cpuacct` at /sys/fs/cgroup/cpuacct or
    /// /sys/fs/cgroup/cpu,cpuacct), read once from /proc/self/mountinfo.
    static let v1Mounts: [String: String] = {
        guard let data = FileManager.default.contents(atPath: "/proc/self/mountinfo") else { return [:] }
        var mounts: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - TYPE SOURCE SUPER-OPTIONS
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let mountFields = halves[0].split(separator: " ")
            let fsFields = halves[1].split(separator: " ")
            guard mountFields.count >= 5, fsFields.count >= 3, fsFields[0] == "cgroup" else { continue }
            for option in fsFields[2].split(separator: ",") where mounts[String(option)] == nil {
                mounts[String(option)] = String(mountFields[4])
            }
        }
        return mounts
    }()

    /// Whether per-cgroup swap limits exist (v1 `memsw`, v2 `memory.swap.max`): without them a
    /// swap limit makes runc fail, and with swap on but no limit, a memory limit only swaps.
    static var swapAccounting: Bool {
        if isUnified {
            // The root cgroup has no swap files; any child with the memory controller shows them.
            return FileManager.default.fileExists(atPath: "/proc/swaps")
                && ((try? String(contentsOfFile: "/proc/swaps", encoding: .utf8))?.split(separator: "\n").count ?? 0) > 1
        }
        guard let mount = v1MemoryMount() else { return false }
        return FileManager.default.fileExists(atPath: "\(mount)/memory.memsw.limit_in_bytes")
    }
}
