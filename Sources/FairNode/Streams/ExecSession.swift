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
        let stdin = DispatchQueue(label: "fair.exec.stdin")
        while let message = try? await reader.next() {
            switch InboundStreamMessage(message: message, subprotocol: subprotocol) {
            case let .stdin(bytes) where request.stdin && !bytes.isEmpty:
                // Written off the async pool: a process that does not read its stdin blocks
                // this write, and with it the reading of further input, not a shared thread.
                let accepted = await withCheckedContinuation { continuation in
                    stdin.async { continuation.resume(returning: process.writeStdin(bytes)) }
                }
                if !accepted { continue }
            case let .resize(bytes) where request.tty:
                for size in sizes.feed(bytes) { process.resize(size) }
            case .closeStream(StreamChannel.stdin):
                stdin.async { process.closeStdin() }
            default:
                continue
            }
        }
        // The client has gone (or the stream ended): writes still waiting give up, then stdin
        // closes, after the writes queued before it.
        process.cancelWrites()
        await withCheckedContinuation { continuation in
            stdin.async {
                process.closeStdin()
                continuation.resume()
            }
        }
    }

    static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}
