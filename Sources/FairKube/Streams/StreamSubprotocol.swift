import Foundation

/// The WebSocket subprotocols Kubernetes' remote-command streams (exec, attach) are spoken in.
/// A server has a fixed set and takes the first name in the client's order that it knows
/// (`wsstream/conn.go`'s handshake); a client that offers none gets the oldest framing and no
/// `Sec-WebSocket-Protocol` header back. The base64 variants are not served.
public enum StreamSubprotocol: String, Sendable, CaseIterable {
    /// v4 plus the CLOSE signal (`[255, channel]`) that ends a stream, e.g. stdin at EOF.
    case v5 = "v5.channel.k8s.io"
    /// A JSON `Status` on channel 3 for success and failure alike.
    case v4 = "v4.channel.k8s.io"
    /// The original framing, offered by name: only a failure's message on channel 3.
    case v1 = "channel.k8s.io"
    /// No subprotocol offered: framed as `channel.k8s.io`, answered without the header.
    case unnamed = ""
    /// kubectl's own port-forward (1.31 and later): a SPDY/3.1 session tunnelled in the
    /// WebSocket's binary messages, spoken by the node and relayed untouched.
    case spdyPortForward = "SPDY/3.1+portforward.k8s.io"

    /// What exec and attach are served in, in the server's order.
    public static let remoteCommand: [StreamSubprotocol] = [.v5, .v4, .v1]

    /// The subprotocol to answer `Sec-WebSocket-Protocol` values with (each may list several,
    /// comma-separated); nil when the client offered names and none is served, which kube
    /// refuses as an upgrade failure.
    public static func negotiate(offered headerValues: [String]) -> StreamSubprotocol? {
        let names = offeredNames(headerValues)
        if names.isEmpty { return .unnamed }
        return names.lazy.compactMap { name in StreamSubprotocol(rawValue: name).flatMap { remoteCommand.contains($0) ? $0 : nil } }.first
    }

    /// Port-forward over WebSocket knows v4's framing (`portforward/websocket.go`, the Python
    /// client and kr8s), none offered, or kubectl's SPDY tunnel; v5 and `channel.k8s.io` are
    /// exec's and attach's alone. The first offered that is served wins.
    public static func negotiatePortForward(offered headerValues: [String]) -> StreamSubprotocol? {
        let names = offeredNames(headerValues)
        if names.isEmpty { return .unnamed }
        return names.lazy.compactMap { name in StreamSubprotocol(rawValue: name).flatMap { [.v4, .spdyPortForward].contains($0) ? $0 : nil } }.first
    }

    /// The stream is a tunnelled SPDY session: nothing but its own frames may be written into it
    /// (no channel-3 status; a failure closes the WebSocket instead).
    public var isTunnel: Bool { self == .spdyPortForward }

    /// The names in `Sec-WebSocket-Protocol` values, in the client's order (each value may list
    /// several, comma-separated).
    private static func offeredNames(_ headerValues: [String]) -> [String] {
        headerValues.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The value of the response's `Sec-WebSocket-Protocol` header; nil: send none.
    public var responseHeader: String? { self == .unnamed ? nil : rawValue }

    /// Whether channel 3 carries a JSON `Status` (also on success) rather than a failure's text.
    public var sendsStatusObject: Bool { self == .v5 || self == .v4 }

    /// Whether a client may close one stream (`[255, channel]`) without closing the connection.
    public var closesStreams: Bool { self == .v5 }
}
