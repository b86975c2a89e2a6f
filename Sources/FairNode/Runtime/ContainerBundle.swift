import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A container's bundle directory and the files its supervisor leaves there. These files, not
/// the memory of an agent process, are the container's record: a new agent reads the same
/// answers from them after a restart.
///
/// - `config.json`: the runtime-spec config runc runs;
/// - `container.json`: what the runtime needs later (cgroup, boot id, log path);
/// - `supervisor.pid`: the process waiting on `runc run` (written before it starts);
/// - `pid`: the container's first process, written by runc once it runs;
/// - `exit-code`: `runc run`'s exit status (128+signal for a killed process), written when the
///   container has exited;
/// - `exit.json`: the final state, written once from the above (and the cgroup's OOM count);
/// - `runc.log`: runc's own messages (why a start failed);
/// - `etc/`: the generated hosts, resolv.conf and hostname.
struct ContainerBundle {
    let directory: String

    var config: String { "\(directory)/config.json" }
    var metadata: String { "\(directory)/container.json" }
    var supervisorPID: String { "\(directory)/supervisor.pid" }
    var pid: String { "\(directory)/pid" }
    var exitCode: String { "\(directory)/exit-code" }
    var exitRecord: String { "\(directory)/exit.json" }
    var runcLog: String { "\(directory)/runc.log" }
    var supervisorLog: String { "\(directory)/supervisor.log" }
    var etc: ContainerEtcFiles { ContainerEtcFiles(directory: "\(directory)/etc") }

    /// A decimal number in a small file. The writers (`echo`, runc) write it in one call, so a
    /// file without its final newline (runc writes none) is read as it is, and an empty one as
    /// not written yet.
    static func readNumber(_ path: String) -> Int64? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int64(text)
    }

    func containerPID() -> pid_t? { Self.readNumber(pid).map { pid_t(truncatingIfNeeded: $0) } }
    func supervisorProcessID() -> pid_t? { Self.readNumber(supervisorPID).map { pid_t(truncatingIfNeeded: $0) } }

    /// The exit status, once the supervisor has written it (with its newline: `echo` writes the
    /// digits and the newline at once, so a complete line is a complete number).
    func exitStatus() -> Int32? {
        guard let data = FileManager.default.contents(atPath: exitCode), data.last == UInt8(ascii: "\n") else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whole seconds, as Kubernetes reports times, and as `exit.json` keeps them: the same
    /// container reads the same dates before and after its exit record is written.
    static func modificationDate(_ path: String) -> Date? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec))
    }

    /// The last error runc logged (its log is JSON lines: `{"level":"error","msg":…}`).
    func lastRuncError() -> String? {
        Self.lastError(inRuncLog: runcLog)
    }

    /// The last error runc wrote to a `--log-format json` log.
    static func lastError(inRuncLog path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var message: String?
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  object["level"] as? String == "error" || object["level"] as? String == "fatal",
                  let text = object["msg"] as? String
            else { continue }
            message = text
        }
        return message
    }
}

/// What the runtime writes at start and needs again when the container has exited.
struct ContainerMetadata: Codable, Equatable {
    var id: String
    var cgroupsPath: String
    /// The kernel's boot id at start: after a reboot the recorded pids name other processes.
    var bootID: String
    var logPath: String
}

/// The final state of an exited container, as `state(id:)` reports it.
struct ExitRecord: Codable, Equatable {
    var code: Int32
    var reason: String
    var startedAt: Date?
    var finishedAt: Date

    var state: ContainerState {
        .exited(code: code, reason: reason, startedAt: startedAt, finishedAt: finishedAt)
    }
}

enum BundleJSON {
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(to: path, bytes: Array(try encoder.encode(value)))
    }

    static func read<T: Decodable>(_ type: T.Type, from path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(type, from: data)
    }
}
