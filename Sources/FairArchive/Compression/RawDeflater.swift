import CZlib

/// Owns a zlib stream producing raw deflate (no zlib or gzip wrapper), reset for every block so
/// its window and hash tables are allocated once per worker.
final class RawDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    init(level: Int) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits -15 selects raw deflate; memLevel 8 is zlib's and pigz's default.
        let result = deflateInit2_(stream, Int32(level), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else {
            stream.deallocate()
            throw ArchiveError.compression("gzip: deflateInit2 failed (\(result))")
        }
    }

    deinit {
        // Z_DATA_ERROR here only says a block was dropped half done, as after a failed build.
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `block` into its output and computes its CRC-32. A block that is not the last
    /// ends with a sync flush, so it stops on a byte boundary and the next block's data can follow.
    func compress(_ block: DeflateBlock) throws {
        try check(deflateReset(stream), "deflateReset")
        if block.dictionaryCount > 0 {
            try check(deflateSetDictionary(stream, block.dictionary.assumingMemoryBound(to: Bytef.self),
                                           uInt(block.dictionaryCount)), "deflateSetDictionary")
        }
        block.crc = UInt32(crc32_z(0, block.data.assumingMemoryBound(to: Bytef.self), z_size_t(block.count)))

        // deflateBound leaves out the flush marker (an empty stored block) and a final empty block.
        block.reserveOutput(Int(deflateBound(stream, uLong(block.count))) + 64)
        let flush = block.isLast ? Z_FINISH : Z_SYNC_FLUSH
        stream.pointee.next_in = block.data.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(block.count)
        var produced = 0
        while true {
            stream.pointee.next_out = (block.output! + produced).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(block.outputCapacity - produced)
            let result = deflate(stream, flush)
            produced = block.outputCapacity - Int(stream.pointee.avail_out)
            if result == Z_STREAM_END { break }
            guard result == Z_OK || result == Z_BUF_ERROR else {
                throw ArchiveError.compression("gzip: deflate failed (\(result))")
            }
            let outputLeft = stream.pointee.avail_out > 0
            if !block.isLast && stream.pointee.avail_in == 0 && outputLeft { break }
            if outputLeft && result == Z_BUF_ERROR {
                throw ArchiveError.compression("gzip: deflate made no progress")
            }
            if !outputLeft {
                block.outputCount = produced
                block.reserveOutput(block.outputCapacity * 2)
            }
        }
        block.outputCount = produced
    }

    private func check(_ result: Int32, _ operation: String) throws {
        guard result == Z_OK else { throw ArchiveError.compression("gzip: \(operation) failed (\(result))") }
    }
}
