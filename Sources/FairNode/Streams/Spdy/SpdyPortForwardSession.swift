import FairHTTPServer
import NIOCore
import WSCore

/// Port-forward as kubectl 1.32 speaks it by default: SPDY/3.1 carried inside a WebSocket
/// (subprotocol `SPDY/3.1+portforward.k8s.io`), the API server relaying the bytes untouched and
/// the node running the SPDY server, as kubelet does. Each local connection kubectl accepts
/// opens an error stream and a data stream; the node dials the pod's port for each pair and
/// forwards until either side is done. The ports come from the streams, not the URL.
///
/// Every frame goes out as one binary message; the client's frames arrive cut into pieces
/// (one per field) and are put back together whatever the message boundaries.
struct SpdyPortForwardSession {
    let podIP: String
    let podName: String
    let podUID: String

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let messages = InboundMessages(inbound)
        let input = await serve(receive: { await messages.next() },
                                transmit: { try await outbound.write(.binary(ByteBuffer(bytes: $0))) })
        await PodStreamWebSocket.close(outbound, after: input)
    }

    /// Serves the session over any transport: `receive` gives the client's next message (nil
    /// once it has gone), `transmit` writes one message. Returns once the session is over, with
    /// the task still reading the client, which reads on until the client closes.
    func serve(receive: @escaping @Sendable () async -> [UInt8]?,
               transmit: @escaping SpdyFrameWriter.Transmit) async -> Task<Void, Never> {
        let writer = SpdyFrameWriter(transmit: transmit)
        let loop: SpdyPortForwardLoop
        do {
            loop = try SpdyPortForwardLoop(podIP: podIP, podName: podName, podUID: podUID, writer: writer)
        } catch {
            // Without a decompressor no stream can be read: the client is told, and closed on.
            await writer.send(.goAway(lastGoodStreamID: 0, status: .internalError))
            await writer.finish()
            return Task { while await receive() != nil {} }
        }
        let sink = loop.eventSink
        let input = Task {
            // One message at a time: the next is read only once the loop has handled this one,
            // so a client that outruns the pods is held back by its WebSocket, not buffered.
            var delivering = true
            while let message = await receive() {
                guard delivering else { continue }
                delivering = await withCheckedContinuation { (handled: CheckedContinuation<Bool, Never>) in
                    if case .terminated = sink.yield(.message(message, handled: handled)) { handled.resume(returning: false) }
                }
            }
            sink.yield(.inputEnded)
        }
        _ = await loop.run()
        return input
    }
}

/// A WebSocket's messages, empty ones included, for the one task that reads them.
private final class InboundMessages: @unchecked Sendable {
    private var reader: WebSocketMessageReader

    init(_ inbound: WebSocketInboundStream) {
        reader = WebSocketMessageReader(inbound, maximumSize: ExecSession.maximumMessage)
    }

    /// The next message; nil once the client closed, failed, or sent an oversized message.
    func next() async -> [UInt8]? {
        do {
            return try await reader.next()
        } catch {
            return nil
        }
    }
}
