import Foundation

/// How a remote command ended, as written on channel 3 just before the server closes.
/// v4 and v5 carry `json.Marshal(metav1.Status)` as the kubelet writes it (`ServeExec`): no
/// kind or apiVersion, `metadata` always `{}`, `code` only when non-zero, Go's field order.
/// Clients read it with care: kubectl parses the `ExitCode` cause as a uint8, the Python client
/// takes the first cause's message as the code, kr8s needs `message` for its `ExecError`.
public enum RemoteCommandStatus: Equatable, Sendable {
    case success
    /// The process exited non-zero; `detail` is the runtime's description of the exit.
    case nonZeroExit(code: Int, detail: String)
    /// The command could not be run (no such container, runc refused it, …).
    case internalError(String)

    /// A process's exit status as kube reports it: 0 is success, anything else non-zero,
    /// clamped to what kubectl can read (0–255; runc reports 128+signal for a killed process).
    public static func exit(code: Int32, command: [String]) -> RemoteCommandStatus {
        if code == 0 { return .success }
        let clamped = Int(min(max(code, 1), 255))
        return .nonZeroExit(code: clamped, detail: "command '\(command.joined(separator: " "))' exited with \(clamped)")
    }

    /// The channel-3 payload for a subprotocol; nil: nothing to write (success before v4).
    public func payload(for subprotocol: StreamSubprotocol) -> [UInt8]? {
        if subprotocol.isTunnel { return nil }
        if subprotocol.sendsStatusObject { return statusObject() }
        switch self {
        case .success: return nil
        case .nonZeroExit, .internalError: return Array(message.utf8)
        }
    }

    var message: String {
        switch self {
        case .success: return ""
        case let .nonZeroExit(_, detail): return "command terminated with non-zero exit code: \(detail)"
        case let .internalError(error): return "Internal error occurred: error executing command in container: \(error)"
        }
    }

    private func statusObject() -> [UInt8] {
        var json = OrderedJSONObject()
        json.member("metadata", raw: "{}")
        switch self {
        case .success:
            json.member("status", .string("Success"))
        case let .nonZeroExit(code, _):
            json.member("status", .string("Failure"))
            json.member("message", .string(message))
            json.member("reason", .string("NonZeroExitCode"))
            json.member("details", raw: "{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"\(code)\"}]}")
        case let .internalError(error):
            json.member("status", .string("Failure"))
            json.member("message", .string(message))
            json.member("reason", .string("InternalError"))
            var cause = OrderedJSONObject()
            cause.member("message", .string("error executing command in container: \(error)"))
            json.member("details", raw: "{\"causes\":[" + cause.text + "]}")
            json.member("code", .int(500))
        }
        return Array(json.text.utf8)
    }
}

/// A JSON object whose members keep the order they were added in (Go's struct order), which
/// `JSONCoding` (sorted keys) cannot give.
private struct OrderedJSONObject {
    private var members: [String] = []

    mutating func member(_ key: String, _ value: JSONValue) {
        member(key, raw: String(decoding: JSONCoding.encodeBytes(value), as: UTF8.self))
    }

    mutating func member(_ key: String, raw: String) {
        members.append(String(decoding: JSONCoding.encodeBytes(.string(key)), as: UTF8.self) + ":" + raw)
    }

    var text: String { "{" + members.joined(separator: ",") + "}" }
}
