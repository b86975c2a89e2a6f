import CZlib

/// Parallel gzip in the manner of pigz: the input is cut into fixed-size blocks that workers
/// raw-deflate independently, each primed with the 32 KiB of input before it, and the blocks are
/// joined into a single gzip member.
///
/// The output depends only on the input, the level and the block size: block boundaries are fixed
/// by the byte count, never by timing, and every block is compressed the same way whichever
/// thread takes it. At most `2 × workers` blocks are in memory; `write` waits when all are busy.
/// Compressed blocks reach `downstream` in order, from the calling thread, inside `write` and
/// `finish`. A worker's error is thrown by the next `write` or `finish`.
public final class GzipCompressor: ByteSink {
    private let level: Int
    private let pipeline: DeflatePipeline
    private let downstream: ByteSink
    private var headerWritten = false
    private var crc: uLong = 0
    private var inputCount: UInt64 = 0
    private var finished = false

    public init(level: Int, workers: Int, blockSize: Int = 1 << 20, downstream: ByteSink) throws {
        try CompressionAlgorithm.gzip.validate(level: level)
        // zlib counts a single call's input in 32 bits.
        guard (1...(1 << 30)).contains(blockSize) else {
            throw ArchiveError.compression("gzip block size \(blockSize) is out of range 1...\(1 << 30)")
        }
        self.level = level
        self.downstream = downstream
        pipeline = DeflatePipeline(level: level, workers: max(1, workers), blockSize: blockSize)
    }

    deinit { pipeline.shutdown() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw ArchiveError.compression("gzip: write after finish") }
        var rest = bytes
        while !rest.isEmpty {
            // A full block is only sent off once more input arrives, so the block that is
            // current at `finish` is always the one that ends the stream.
            if pipeline.current.isFull {
                try emitCompleted(waitWhileFull: true)
                try pipeline.submitCurrent(isLast: false)
                try emitCompleted(waitWhileFull: false)
            }
            let copied = pipeline.current.append(rest)
            rest = UnsafeRawBufferPointer(rebasing: rest[copied...])
        }
    }

    public func finish() throws {
        guard !finished else { throw ArchiveError.compression("gzip: finish called twice") }
        finished = true
        try emitCompleted(waitWhileFull: true)
        try pipeline.submitCurrent(isLast: true)
        while let block = try pipeline.oldestCompleted(wait: true) {
            try emit(block)
            pipeline.recycle(block)
        }
        pipeline.shutdown()
        try downstream.write(trailer)
        try downstream.finish()
    }

    /// Passes on every block the workers have completed, in order; while no block can be started,
    /// waits for the oldest.
    private func emitCompleted(waitWhileFull: Bool) throws {
        while let block = try pipeline.oldestCompleted(wait: waitWhileFull && pipeline.isFull) {
            try emit(block)
            pipeline.recycle(block)
        }
    }

    private func emit(_ block: DeflateBlock) throws {
        if !headerWritten {
            try downstream.write(header)
            headerWritten = true
        }
        try downstream.write(block.compressed)
        crc = crc32_combine(crc, uLong(block.crc), off_t(block.count))
        inputCount += UInt64(block.count)
    }

    /// No file name and a zero modification time, so equal input gives equal bytes.
    private var header: [UInt8] {
        // XFL tells a reader the compressor used its fastest (4) or best (2) setting, as gzip does.
        let extraFlags: UInt8 = level == 1 ? 4 : level == 9 ? 2 : 0
        let unix: UInt8 = 3
        return [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, unix]
    }

    /// CRC-32 and length modulo 2^32 of the uncompressed data, little-endian.
    private var trailer: [UInt8] {
        let crc32 = UInt32(truncatingIfNeeded: crc)
        let size = UInt32(truncatingIfNeeded: inputCount)
        return (0..<4).map { UInt8(truncatingIfNeeded: crc32 >> (8 * $0)) }
            + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
    }
}
