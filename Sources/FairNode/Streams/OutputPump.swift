import Foundation
import NIOCore
import WSCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a descriptor (a process's output, a connection to the pod) on a thread of its own and
/// sends each piece as one message on its channel, waiting for the send before reading on: at
/// most one piece is held.
final class OutputPump: @unchecked Sendable {
    private let descriptor: Int32
    /// A pipe is closed as soon as nobody will read it (the writer then gets EPIPE rather than
    /// blocking on a full pipe, as a process writing to a gone client does under kubelet).
    private let closesWhenDone: Bool
    private let channel: UInt8
    private let outbound: WebSocketOutboundWriter
    private let lock = NSCondition()
    private var finished = false
    /// Nobody reads any more (the client has gone): stop at once.
    private var abandoned = false
    /// Set once the writer has exited: stop when the descriptor has been quiet this long.
    private var quietLimit: TimeInterval?

    /// Called once a send fails: the client has gone.
    private let clientGone: @Sendable () -> Void

    init(descriptor: Int32, closesWhenDone: Bool, channel: UInt8, outbound: WebSocketOutboundWriter,
         clientGone: @escaping @Sendable () -> Void = {}) {
        self.descriptor = descriptor
        self.closesWhenDone = closesWhenDone
        self.channel = channel
        self.outbound = outbound
        self.clientGone = clientGone
    }

    func start() {
        Thread.detachNewThread { [self] in
            pump()
            if closesWhenDone { close(descriptor) }
            lock.lock()
            finished = true
            lock.broadcast()
            lock.unlock()
        }
    }

    /// Waits until the descriptor has reached its end.
    func finished() async {
        await waitUntilFinished()
    }

    /// The writer has exited: everything it wrote is still sent, however slowly the client takes
    /// it, but output held open by a child it left running ends once nothing has come for
    /// `quiet` (a cut by elapsed time would truncate a large output sent to a slow client).
    func drain(quiet: TimeInterval) async {
        lock.withLock { quietLimit = quiet }
        await waitUntilFinished()
    }

    /// The client has gone: reading stops now.
    func abandon() async {
        lock.withLock { abandoned = true }
        await waitUntilFinished()
    }

    private func waitUntilFinished() async {
        // An untimed wait: Foundation's timed wait traps on a distant date.
        await ExecSession.blocking { [self] in
            lock.lock()
            while !finished { lock.wait() }
            lock.unlock()
        }
    }

    private var state: (abandoned: Bool, quietLimit: TimeInterval?) {
        lock.lock(); defer { lock.unlock() }
        return (abandoned, quietLimit)
    }

    private func pump() {
        var buffer = [UInt8](repeating: 0, count: ExecSession.chunkSize + 1)
        var lastData = Date()
        while true {
            if state.abandoned { return }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0 && errno != EINTR { return }
            if ready == 0, let quietLimit = state.quietLimit, Date().timeIntervalSince(lastData) >= quietLimit {
                // Checked only after a poll found nothing: what the writer left before exiting
                // is in the pipe already, and is read first.
                return
            }
            if ready <= 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + 1, ExecSession.chunkSize) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            // EOF, or EIO from a terminal whose other side has closed.
            if count <= 0 { return }
            buffer[0] = channel
            let message = ByteBuffer(bytes: buffer[0...count])
            let sent = DispatchSemaphore(value: 0)
            let delivered = Delivered()
            let outbound = self.outbound
            Task {
                do { try await outbound.write(.binary(message)) } catch { delivered.failed = true }
                sent.signal()
            }
            // A send can wait for good on a client that has gone without the connection
            // noticing; once the client is known to have gone, reading stops regardless, so the
            // terminal can be hung up (the write task holds its own copy of the bytes).
            while sent.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
                if state.abandoned { return }
            }
            // The client is gone: nobody reads further output.
            if delivered.failed {
                clientGone()
                return
            }
            lastData = Date()
        }
    }
}

private final class Delivered: @unchecked Sendable {
    var failed = false
}
