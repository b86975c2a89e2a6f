import HummingbirdWebSocket

/// How the WebSocket of a pod stream (exec, attach, port-forward) is run, the same at every hop
/// (client to API server, API server to node).
public enum PodStreamWebSocket {
    /// The largest frame taken: clients send a whole stdin buffer (or a 1 MiB port-forward read)
    /// as one.
    public static let maximumFrame = 16 << 20

    /// How long, after the stream's last message and the close frame behind it, the peer has to
    /// answer the close before the connection is cut. The peer answers only once it has read
    /// everything before the close, and up to tens of MB can be in flight on loopback (socket
    /// buffers grow to 32 MB): a short wait cut off a `kubectl cp` still reading, which then
    /// ended with "unexpected EOF". Long enough for a slow reader to drain that, and still a
    /// bound on a peer that never answers.
    public static let closeTimeout: Duration = .seconds(60)

    /// No pings: kube-apiserver and kubelet send none, and older Python clients answer them only
    /// while they read.
    public static let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
        ws: .init(maxFrameSize: maximumFrame, autoPing: .disabled, closeTimeout: closeTimeout))
}

extension PodStreamWebSocket {
    /// Ends a stream whose last message has been written: the close frame goes out behind it,
    /// and the stream stays up until the peer answers the close, which it does once it has read
    /// everything before it; `input` (the task reading the peer's messages) then ends on its own.
    /// A peer that does not answer within `closeTimeout` is given up on.
    ///
    /// Not by cancelling `input` at once: that ends the inbound stream, and the WebSocket then
    /// closes the connection without waiting for the peer, cutting off what was still in flight
    /// (a slow `kubectl exec` reader lost megabytes and the exit code).
    public static func close<Result: Sendable>(_ outbound: WebSocketOutboundWriter, after input: Task<Result, Never>) async {
        try? await outbound.close(.normalClosure, reason: nil)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await input.value }
            group.addTask { try? await Task.sleep(for: closeTimeout) }
            await group.next()
            group.cancelAll()
        }
        input.cancel()
    }
}
