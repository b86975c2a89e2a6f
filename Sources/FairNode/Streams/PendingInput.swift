import Foundation

/// What a client has sent to a process's stdin and the process has not taken yet, bounded by
/// bytes. The client's messages are read on while the process is slow to read (a terminal
/// stopped with Ctrl-S, a command that reads nothing), so a client that leaves is seen to have
/// gone; only past `limit` pending bytes does reading wait for the process.
final class PendingInput: @unchecked Sendable {
    static let limit = 4 << 20

    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var bytes = 0
    private var finished = false
    private var waitingForRoom: [CheckedContinuation<Void, Never>] = []

    /// Queues a chunk, waiting while `limit` bytes are pending; dropped once finished.
    func put(_ chunk: [UInt8]) async {
        while true {
            let full: Bool = condition.withLock {
                if finished { return false }
                if bytes >= Self.limit { return true }
                chunks.append(chunk)
                bytes += chunk.count
                condition.broadcast()
                return false
            }
            if !full { return }
            await withCheckedContinuation { continuation in
                let ready = condition.withLock {
                    if finished || bytes < Self.limit { return true }
                    waitingForRoom.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// The next chunk, waiting for one (on a thread of its own); nil once finished and empty.
    func take() -> [UInt8]? {
        condition.lock()
        while chunks.isEmpty && !finished { condition.wait() }
        guard !chunks.isEmpty else {
            condition.unlock()
            return nil
        }
        let chunk = chunks.removeFirst()
        bytes -= chunk.count
        let waiting = waitingForRoom
        waitingForRoom = []
        condition.unlock()
        for continuation in waiting { continuation.resume() }
        return chunk
    }

    /// No more input: what is pending is still taken, then `take` ends.
    func finish() { end(discarding: false) }

    /// Nobody wants what is pending any more (the client has gone, or stdin has closed).
    func discard() { end(discarding: true) }

    private func end(discarding: Bool) {
        condition.lock()
        finished = true
        if discarding {
            chunks = []
            bytes = 0
        }
        condition.broadcast()
        let waiting = waitingForRoom
        waitingForRoom = []
        condition.unlock()
        for continuation in waiting { continuation.resume() }
    }
}
