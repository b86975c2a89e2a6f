import Foundation

/// Which process a node's nftables table belongs to, written into the table's name
/// (`fair_PID_START_N`: the process id, its start time in clock ticks since boot, and a number
/// for each proxy in the process), so that a process that died without removing its table (a
/// SIGKILL, a crash) is recognised by the next one: a table whose process is gone, or whose
/// process id now belongs to a process started at another time, is stale and is deleted. Stale
/// rules would otherwise keep sending a cluster IP to addresses nobody serves.
struct NFTablesOwner: Equatable, Sendable {
    let pid: Int32
    let startTime: UInt64
    let number: Int

    static let prefix = "fair_"

    var tableName: String { "\(Self.prefix)\(pid)_\(startTime)_\(number)" }

    init(pid: Int32, startTime: UInt64, number: Int) {
        self.pid = pid
        self.startTime = startTime
        self.number = number
    }

    init?(tableName: String) {
        guard tableName.hasPrefix(Self.prefix) else { return nil }
        let parts = tableName.dropFirst(Self.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[0]), let start = UInt64(parts[1]), let number = Int(parts[2]) else { return nil }
        self.init(pid: pid, startTime: start, number: number)
    }

    /// Whether the process that made the table still runs.
    var isAlive: Bool { Self.startTime(of: pid) == startTime }

    /// Field 22 of `/proc/PID/stat`; nil when there is no such process. The fields are counted
    /// after the command's closing parenthesis, since the command itself may hold spaces.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After ")" come field 3 (state) onward: field 22 is the 20th.
        return fields.count >= 20 ? UInt64(fields[19]) : nil
    }
}
