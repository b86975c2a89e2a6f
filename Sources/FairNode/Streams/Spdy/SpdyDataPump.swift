import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a pod connection on a thread of its own and sends what it reads as DATA frames on one
/// stream, at most `chunkSize` a frame, waiting for each to be written before reading on: the
/// client's reading paces the pod, and at most one chunk is held. When reading ends (the pod's
/// EOF, a socket error, or `stop`), the stream's FIN goes out behind the last chunk, unless the
/// client reset the stream; then `ended` is called.
///
/// The pump is the only sender on its stream, so its DATA and its FIN cannot cross.
final class SpdyDataPump: @unchecked Sendable {
    static let chunkSize = 32 * 1024

    private let socket: Int32
    private let streamID: UInt32
    private let writer: SpdyFrameWriter
    private let ended: @Sendable () -> Void
    private let lock = NSCondition()
    private var stopped = false
    private var sendsFin = true
    private var done = false

    init(socket: Int32, streamID: UInt32, writer: SpdyFrameWriter, ended: @escaping @Sendable () -> Void) {
        self.socket = socket
        self.streamID = streamID
        self.writer = writer
        self.ended = ended
    }

    func start() {
        Thread.detachNewThread { [self] in
            pump()
            lock.withLock {
                done = true
                lock.broadcast()
            }
            ended()
        }
    }

    /// Stops forwarding: nothing read from now on is sent. The caller then shuts the socket
    /// down, which wakes a read in progress. `fin` false when the client reset the stream, so
    /// nothing more may be sent on it.
    func stop(sendingFin fin: Bool) {
        lock.withLock {
            stopped = true
            sendsFin = sendsFin && fin
        }
    }

    /// Waits until the pump has sent its last frame; the socket may be closed after this.
    func finished() async {
        // An untimed wait off the async pool: Foundation's timed wait traps on a distant date.
        await ExecSession.blocking { [self] in
            lock.lock()
            while !done { lock.wait() }
            lock.unlock()
        }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func pump() {
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        var clientGone = false
        while !isStopped {
            let count = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            // EOF, a shut-down socket, or a reset by the pod: the pod will send no more.
            if count <= 0 || isStopped { break }
            if !writer.sendWaiting(.data(streamID: streamID, flags: [], payload: Array(buffer[..<count]))) {
                clientGone = true
                break
            }
        }
        if !clientGone && lock.withLock({ sendsFin }) {
            writer.sendWaiting(.data(streamID: streamID, flags: .fin, payload: []))
        }
    }
}
