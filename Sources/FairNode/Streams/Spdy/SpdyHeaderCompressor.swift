import CZlib

/// The deflate side of one SPDY session's outgoing header blocks. SPDY/3 compresses every header
/// block of a direction as one zlib stream primed with `SpdyDictionary`: the zlib header goes
/// out once, in the first block, and each block ends with a sync flush so the peer can inflate
/// it whole before the next arrives. The stream therefore lives as long as the session, and
/// blocks must be compressed in the order their frames are written.
///
/// Not thread-safe (a `z_stream` is not): owned by the session's single writer.
final class SpdyHeaderCompressor {
    private let stream: UnsafeMutablePointer<z_stream>

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // Level 9 and the zlib wrapper (windowBits 15) as spdystream's Go writer uses them;
        // memLevel 8 is zlib's default.
        let result = deflateInit2_(stream, 9, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else {
            stream.deallocate()
            throw SpdyError.compressorUnavailable("deflateInit2 returned \(result)")
        }
        // Before the first deflate, so the zlib header carries FDICT and the dictionary's id.
        let primed = SpdyDictionary.bytes.withUnsafeBufferPointer {
            deflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
        }
        guard primed == Z_OK else {
            deflateEnd(stream)
            stream.deallocate()
            throw SpdyError.compressorUnavailable("deflateSetDictionary returned \(primed)")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func compress(_ headers: SpdyHeaderBlock) throws -> [UInt8] {
        try compress(bytes: headers.encoded())
    }

    /// Deflates `bytes` onto the stream and returns what it produced, up to and including the
    /// sync flush's empty stored block (`00 00 ff ff`).
    func compress(bytes: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        try bytes.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
            }
            // A sync flush is complete once deflate leaves room in the output.
            repeat {
                let (result, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let result = deflate(stream, Z_SYNC_FLUSH)
                    return (result, out.count - Int(stream.pointee.avail_out))
                }
                guard result == Z_OK || result == Z_BUF_ERROR else {
                    throw SpdyError.headerCompression("deflate returned \(result)")
                }
                output.append(contentsOf: chunk[..<produced])
            } while stream.pointee.avail_out == 0
        }
        return output
    }
}
