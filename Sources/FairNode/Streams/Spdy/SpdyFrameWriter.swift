import Foundation

/// The one writer of a session's frames. Frames are compressed and written strictly in the
/// order they were handed in, one at a time: the header blocks share one deflate stream, so a
/// block must reach the peer in the order it was compressed, and a WebSocket takes one message
/// at a time. Whoever hands a frame in waits until it is written, which holds back what a slow
/// client has not read yet (SPDY/3.1 flow control is not in play here).
final class SpdyFrameWriter: Sendable {
    /// Writes one frame's bytes as one WebSocket binary message.
    typealias Transmit = @Sendable ([UInt8]) async throws -> Void

    private struct Request: Sendable {
        let frame: SpdyFrame
        let done: @Sendable (_ written: Bool) -> Void
    }

    private let requests: AsyncStream<Request>.Continuation
    private let writing: Task<Void, Never>
    private let abandoned = LockedFlag()

    init(transmit: @escaping Transmit) {
        let (stream, requests) = AsyncStream<Request>.makeStream()
        self.requests = requests
        let abandoned = self.abandoned
        writing = Task {
            // Created here, so the single writing task is its only user.
            let compressor: SpdyHeaderCompressor
            do {
                compressor = try SpdyHeaderCompressor()
            } catch {
                for await request in stream { request.done(false) }
                return
            }
            var broken = false
            for await request in stream {
                if broken || abandoned.value {
                    request.done(false)
                    continue
                }
                do {
                    try await transmit(request.frame.encoded(compressingWith: compressor))
                    request.done(true)
                } catch {
                    // The peer has gone, or a header block failed half way through the shared
                    // stream: nothing later can be written coherently.
                    broken = true
                    request.done(false)
                }
            }
        }
    }

    /// Writes `frame` behind those handed in before; true once written, false when the peer can
    /// no longer be written to.
    @discardableResult
    func send(_ frame: SpdyFrame) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            enqueue(frame) { continuation.resume(returning: $0) }
        }
    }

    /// `send` for a thread of its own (a pump reading a socket), which blocks until written.
    @discardableResult
    func sendWaiting(_ frame: SpdyFrame) -> Bool {
        let written = DispatchSemaphore(value: 0)
        let outcome = LockedFlag()
        enqueue(frame) {
            if $0 { outcome.set() }
            written.signal()
        }
        written.wait()
        return outcome.value
    }

    /// The peer has gone: queued frames, and any handed in later, are dropped, so nobody waits
    /// on a write that cannot complete.
    func abandon() {
        abandoned.set()
    }

    /// Takes no more frames; returns once those handed in before are written or dropped.
    func finish() async {
        requests.finish()
        await writing.value
    }

    private func enqueue(_ frame: SpdyFrame, done: @escaping @Sendable (Bool) -> Void) {
        if case .terminated = requests.yield(Request(frame: frame, done: done)) { done(false) }
    }
}

/// A flag set once, read from any thread.
private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false

    func set() { lock.withLock { isSet = true } }
    var value: Bool { lock.withLock { isSet } }
}
