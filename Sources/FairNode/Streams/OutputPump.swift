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
    private var abandoned = false

    init(descriptor: Int32, closesWhenDone: Bool, channel: UInt8, outbound: WebSocketOutboundWriter) {
        self.descriptor = descriptor
        self.closesWhenDone = closesWhenDone
        self.channel = channel
        self.outbound = outbound
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

    /// Waits for the end of the output, or until `deadline`, after which reading stops.
    /// Waits until the descriptor has reached its end.
    func finished() async {
        // Not `finish(by: .distantFuture)`: Foundation's timed wait traps on so far a date.
        await ExecSession.blocking { [self] in
            lock.lock()
            while !finished { lock.wait() }
            lock.unlock()
        }
    }

    func finish(by deadline: Date) async {
        await ExecSession.blocking { [self] in
            lock.lock()
            while !finished && lock.wait(until: deadline) {}
            abandoned = true
            while !finished { lock.wait() }
            lock.unlock()
        }
    }

    private var isAbandoned: Bool {
        lock.lock(); defer { lock.unlock() }
        return abandoned
    }

    private func pump() {
        var buffer = [UInt8](repeating: 0, count: ExecSession.chunkSize + 1)
        while !isAbandoned {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0 && errno != EINTR { return }
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
            sent.wait()
            // The client is gone: nobody reads further output.
            if delivered.failed { return }
        }
    }
}

private final class Delivered: @unchecked Sendable {
    var failed = false
}
