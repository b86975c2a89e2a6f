/// The channels of a remote-command stream: every WebSocket message is one channel byte and
/// its payload (`remotecommand/constants.go`).
public enum StreamChannel {
    public static let stdin: UInt8 = 0
    public static let stdout: UInt8 = 1
    public static let stderr: UInt8 = 2
    /// Server to client: the command's `Status` (or, before v4, a failure's text), then nothing.
    public static let error: UInt8 = 3
    /// Client to server: terminal sizes, as concatenated JSON objects.
    public static let resize: UInt8 = 4
    /// v5, client to server: `[255, channel]` closes that channel (stdin's EOF).
    public static let close: UInt8 = 255

    /// One outbound message: the channel byte, then the payload unchanged.
    public static func frame(_ channel: UInt8, _ payload: some Collection<UInt8>) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(payload.count + 1)
        bytes.append(channel)
        bytes.append(contentsOf: payload)
        return bytes
    }
}

/// What one message from the client means. Text and binary messages are read alike (older
/// Python clients send stdin as text frames), so this sees only the message's bytes.
public enum InboundStreamMessage: Equatable, Sendable {
    /// Bytes for the process's stdin.
    case stdin([UInt8])
    /// Bytes of the resize stream (not necessarily whole JSON objects).
    case resize([UInt8])
    /// The client closed one of its streams (v5).
    case closeStream(UInt8)
    /// Nothing to act on: an empty message, an unknown or server-to-client channel, a
    /// malformed or pre-v5 CLOSE. The kubelet drops these rather than ending the session.
    case ignored

    public init(message: [UInt8], subprotocol: StreamSubprotocol) {
        guard let channel = message.first else { self = .ignored; return }
        let payload = Array(message.dropFirst())
        switch channel {
        case StreamChannel.stdin: self = .stdin(payload)
        case StreamChannel.resize: self = .resize(payload)
        case StreamChannel.close where subprotocol.closesStreams && payload.count == 1: self = .closeStream(payload[0])
        default: self = .ignored
        }
    }
}
