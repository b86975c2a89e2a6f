import Foundation

/// Compresses `DeflateBlock`s on worker threads and gives them back in submission order.
///
/// The blocks form a ring of twice as many blocks as workers: one the caller is filling, the rest
/// queued, being compressed, or compressed and waiting to be passed on in order. This keeps every
/// worker busy while a slow block holds up the ones behind it. When the ring is full the caller
/// has to take back the oldest block before it can start another, which bounds memory. Only the
/// caller thread submits, takes back and recycles blocks; workers only compress them.
///
/// Running workers keep the pipeline alive, so its owner must call `shutdown()`.
final class DeflatePipeline {
    private let level: Int
    private let workerLimit: Int
    private let blocks: [DeflateBlock]
    private var threads: [WorkerThread] = []

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var submitted = 0
    private var taken = 0
    private var completed: [Bool]
    private var failure: Error?
    private var stopping = false

    // Caller thread only.
    private var recycled = 0

    init(level: Int, workers: Int, blockSize: Int) {
        self.level = level
        workerLimit = workers
        blocks = (0..<(2 * workers)).map { _ in DeflateBlock(capacity: blockSize) }
        completed = Array(repeating: false, count: blocks.count)
        blocks[0].start(after: nil)
    }

    /// The block the caller is filling.
    var current: DeflateBlock { blocks[submitted % blocks.count] }

    /// Blocks submitted and not yet recycled.
    var inFlight: Int { submitted - recycled }

    /// Whether the caller must recycle a block before it can start the next one.
    var isFull: Bool { inFlight >= blocks.count - 1 }

    /// Hands the current block to the workers. Unless it is the last one, the next block becomes
    /// current, primed with the tail of this one; the ring must not be full.
    func submitCurrent(isLast: Bool) throws {
        precondition(!isFull, "no free block to continue with")
        let block = current
        block.isLast = isLast
        if threads.count < workerLimit {
            // Threads start on demand, so a small layer costs one thread, not `workers`.
            let deflater = try RawDeflater(level: level)
            threads.append(try WorkerThread { self.work(with: deflater) })
        }
        condition.lock()
        completed[submitted % blocks.count] = false
        submitted += 1
        condition.signal()
        condition.unlock()
        if !isLast { current.start(after: block) }
    }

    /// The oldest block not yet recycled once a worker has completed it, or `nil` when there is
    /// none in flight or, unless `wait`, it is still being compressed. Rethrows a worker's error.
    func oldestCompleted(wait: Bool) throws -> DeflateBlock? {
        guard inFlight > 0 else { return nil }
        let slot = recycled % blocks.count
        condition.lock()
        defer { condition.unlock() }
        while wait && !completed[slot] && failure == nil { condition.wait() }
        if let failure { throw failure }
        return completed[slot] ? blocks[slot] : nil
    }

    /// Returns the block from `oldestCompleted` to the ring once its output has been used.
    func recycle(_ block: DeflateBlock) {
        precondition(block === blocks[recycled % blocks.count], "blocks are recycled in order")
        recycled += 1
    }

    /// Stops the workers and waits for them; blocks still queued are dropped.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    private func work(with deflater: RawDeflater) {
        condition.lock()
        while true {
            while !stopping && taken == submitted { condition.wait() }
            if stopping { break }
            let slot = taken % blocks.count
            taken += 1
            condition.unlock()
            var error: Error?
            do { try deflater.compress(blocks[slot]) } catch let caught { error = caught }
            condition.lock()
            if failure == nil { failure = error }
            completed[slot] = true
            // Wakes the caller, which may be waiting for exactly this block.
            condition.broadcast()
        }
        condition.unlock()
    }
}
