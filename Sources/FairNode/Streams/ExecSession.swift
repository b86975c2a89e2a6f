import FairHTTPServer
import FairKube
import Foundation
import NIOCore
import WSCore
#if canImport(Glibc)
import Glibc
#endif

/// One exec served over an upgraded connection, in the kubelet's order: an empty message on
/// the first output channel (the client's sign that the stream is up), the process's output as
/// it comes, then, once the process has exited and its output is drained, the status on
/// channel 3; returning closes the connection with 1000, which clients read as the end.
/// The client's stdin, resizes and (v5) stdin's close go to the process meanwhile. A client
/// that leaves closes the process's stdin (a terminal hangs up); the process is not killed,
/// as kubelet does not kill it either.
struct ExecSession {
    let process: ExecProcess
    let request: ExecRequest
    let subprotocol: StreamSubprotocol

    /// Output is read and sent in pieces of at most this many bytes, one message each.
    static let chunkSize = 32 * 1024
    /// After the process exits, output held open by a child it left running ends once it has
    /// been quiet this long.
    static let drainQuiet: TimeInterval = 1
    /// The largest client message taken (the Python client sends a whole stdin buffer as one).
    static let maximumMessage = 16 << 20

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let process = self.process
        let first: UInt8 = request.stdout ? StreamChannel.stdout : request.stderr ? StreamChannel.stderr : StreamChannel.error
        try? await outbound.write(.binary(ByteBuffer(bytes: [first])))

        let pumps = [(process.stdoutDescriptor, StreamChannel.stdout), (process.stderrDescriptor, StreamChannel.stderr)]
            .compactMap { descriptor, channel in
                descriptor.map {
                    // A client that has gone takes no more output, and sends no more input: a
                    // stdin write waiting for room gives up, so the reading of the client's
                    // messages goes on to see it has gone and hang the terminal up. (Otherwise
                    // runc, its terminal's output unread and never closed, would wait for good.)
                    OutputPump(descriptor: $0, closesWhenDone: process.outputIsPiped, channel: channel, outbound: outbound,
                               clientGone: { process.cancelWrites() })
                }
            }
        for pump in pumps { pump.start() }

        let exit = Task.detached { await Self.blocking { process.wait() } }
        let input = Task {
            await forwardInput(inbound)
            // The client has gone: nobody reads output any more, and a terminal hangs up, as
            // closing a terminal window does (the shell on it gets SIGHUP).
            for pump in pumps { await pump.abandon() }
            process.hangUp()
        }

        let outcome = await exit.value
        // Nothing reads stdin any more: a write still waiting gives up.
        process.cancelWrites()
        // The process is gone; its output may still be in the pipes (or held open by a child
        // it left running): send all of it, stopping only once the pipes go quiet.
        for pump in pumps { await pump.drain(quiet: Self.drainQuiet) }
        process.closeDescriptors()

        let status: RemoteCommandStatus
        switch outcome {
        case let .exited(code): status = .exit(code: code, command: request.command)
        case let .failed(reason): status = .internalError(reason)
        }
        if let payload = status.payload(for: subprotocol) {
            try? await outbound.write(.binary(ByteBuffer(bytes: StreamChannel.frame(StreamChannel.error, payload))))
        }
        await PodStreamWebSocket.close(outbound, after: input)
    }

    /// stdin, resizes and stdin's close, until the client closes (which closes stdin too).
    private func forwardInput(_ inbound: WebSocketInboundStream) async {
        var reader = WebSocketMessageReader(inbound, maximumSize: Self.maximumMessage)
        var sizes = TerminalSizeStream()
        let process = self.process
        // Written on a thread of its own: a process that does not read its stdin blocks that
        // thread, not a shared one, and not the reading of the client's messages (up to
        // PendingInput's limit), so a client that leaves meanwhile is still seen to leave.
        let pending = PendingInput()
        let written = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while let chunk = pending.take() {
                if !process.writeStdin(chunk) { pending.discard() }
            }
            // After everything queued before it: the process reads EOF.
            process.closeStdin()
            written.signal()
        }
        while let message = try? await reader.next() {
            switch InboundStreamMessage(message: message, subprotocol: subprotocol) {
            case let .stdin(bytes) where request.stdin && !bytes.isEmpty:
                await pending.put(bytes)
            case let .resize(bytes) where request.tty:
                for size in sizes.feed(bytes) { process.resize(size) }
            case .closeStream(StreamChannel.stdin):
                pending.finish()
            default:
                continue
            }
        }
        // The client has gone (or the stream ended): writes still waiting give up, what is
        // pending is dropped, and stdin closes.
        process.cancelWrites()
        pending.discard()
        await Self.blocking { written.wait() }
    }

    static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}
