import CZlib

/// The inflate side of one SPDY session's incoming header blocks: the peer's blocks are one
/// zlib stream across the whole session (see `SpdyHeaderCompressor`), so every header-carrying
/// frame must pass through here, in arrival order, even one whose headers are not wanted.
///
/// Not thread-safe (a `z_stream` is not): owned by the session's single reader.
final class SpdyHeaderDecompressor {
    /// Far above kubectl's blocks (about 60 bytes), and a bound on what a few compressed bytes
    /// can make us allocate.
    static let maximumBlockSize = 64 * 1024

    private let stream: UnsafeMutablePointer<z_stream>

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits 15: the zlib wrapper, whose header names the dictionary.
        let result = inflateInit2_(stream, 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else {
            stream.deallocate()
            throw SpdyError.compressorUnavailable("inflateInit2 returned \(result)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func decompressHeaders(_ block: [UInt8]) throws -> SpdyHeaderBlock {
        try SpdyHeaderBlock.decode(decompress(block))
    }

    /// Inflates one frame's whole block. The peer ended it with a sync flush, so all of it
    /// comes out now; a block that inflates to nothing, or stops inside a field, is caught when
    /// the result is parsed.
    func decompress(_ block: [UInt8]) throws -> [UInt8] {
        guard !block.isEmpty else { return [] }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        try block.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
            }
            while true {
                let inputBefore = stream.pointee.avail_in
                let (result, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let result = inflate(stream, Z_SYNC_FLUSH)
                    return (result, out.count - Int(stream.pointee.avail_out))
                }
                guard output.count + produced <= Self.maximumBlockSize else {
                    throw SpdyError.headerBlockTooLarge(limit: Self.maximumBlockSize)
                }
                output.append(contentsOf: chunk[..<produced])
                switch result {
                case Z_NEED_DICT:
                    // The first block's zlib header asks for a dictionary by its Adler-32;
                    // any other than SPDY/3's is a peer we cannot read.
                    guard stream.pointee.adler == uLong(SpdyDictionary.adler32) else {
                        throw SpdyError.headerCompression(
                            "the peer compresses with an unknown dictionary (Adler-32 \(String(stream.pointee.adler, radix: 16)))")
                    }
                    let primed = SpdyDictionary.bytes.withUnsafeBufferPointer {
                        inflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
                    }
                    guard primed == Z_OK else { throw SpdyError.headerCompression("inflateSetDictionary returned \(primed)") }
                case Z_OK, Z_BUF_ERROR:
                    // Done once the input is used up and inflate had room to spare.
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                    if produced == 0 && stream.pointee.avail_in == inputBefore {
                        throw SpdyError.headerCompression("inflate made no progress")
                    }
                case Z_STREAM_END:
                    // The stream must span the whole session; an ended one cannot carry the
                    // next frame's headers.
                    throw SpdyError.headerCompression("the peer ended its header compression stream")
                default:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "inflate returned \(result)"
                    throw SpdyError.headerCompression(reason)
                }
            }
        }
        return output
    }
}
