import CZstd

/// Streams a zstd frame (with content checksum) into `downstream` using libzstd's own worker
/// threads.
///
/// libzstd always runs in its multithreaded mode here, even for one worker: that mode cuts the
/// frame into jobs by byte count alone, so the output is identical for any `workers`, whereas the
/// single-threaded mode cuts blocks differently.
public final class ZstdCompressor: ByteSink {
    private let context: ZstdContext
    private let downstream: ByteSink
    private let output: UnsafeMutableRawBufferPointer
    /// The last byte written so far, passed on only with the next write or with the end of the
    /// frame. When the input ended exactly at a job boundary, libzstd would otherwise close the
    /// frame either inside that job or with an extra empty block, depending on whether a worker
    /// happened to be free for it; with at least one byte left for the end, the last job always
    /// carries data and ends the frame itself.
    private var heldBack: UInt8?
    private var finished = false

    static let jobSize = 2 << 20

    public init(level: Int, workers: Int, downstream: ByteSink) throws {
        try CompressionAlgorithm.zstd.validate(level: level)
        context = try ZstdContext()
        self.downstream = downstream
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        try context.set(ZSTD_c_compressionLevel, level, name: "compression level")
        try context.set(ZSTD_c_checksumFlag, 1, name: "checksum flag")
        do {
            try context.set(ZSTD_c_nbWorkers, max(1, workers), name: "worker count")
            // libzstd's own job size grows with the level's window (8 MiB and up), and every worker
            // holds a job's input and output plus spare buffers: well over 100 MB at two workers.
            // A fixed 2 MiB job keeps a build's memory bounded at any level, and being a fixed
            // parameter it keeps the output independent of the worker count.
            try context.set(ZSTD_c_jobSize, Self.jobSize, name: "job size")
        } catch {
            // A libzstd built without thread support rejects any worker count; it then always
            // runs single-threaded, which is just as reproducible on that machine.
        }
    }

    deinit { output.deallocate() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw ArchiveError.compression("zstd: write after finish") }
        guard let last = bytes.last else { return }
        if var byte = heldBack {
            try withUnsafeBytes(of: &byte) { try compress($0, ZSTD_e_continue) }
        }
        try compress(UnsafeRawBufferPointer(rebasing: bytes.dropLast()), ZSTD_e_continue)
        heldBack = last
    }

    public func finish() throws {
        guard !finished else { throw ArchiveError.compression("zstd: finish called twice") }
        finished = true
        if var byte = heldBack {
            try withUnsafeBytes(of: &byte) { try compress($0, ZSTD_e_end) }
        } else {
            try compress(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end)
        }
        try downstream.finish()
    }

    /// Feeds `bytes` to libzstd and passes on what it produces; with `ZSTD_e_end`, until the
    /// frame is complete.
    private func compress(_ bytes: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective) throws {
        // Without new input, a continue call would only wait for a worker to produce output.
        if directive == ZSTD_e_continue && bytes.isEmpty { return }
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while true {
            var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = try ZstdContext.check(
                ZSTD_compressStream2(context.handle, &out, &input, directive), "compress")
            if out.pos > 0 {
                try downstream.write(UnsafeRawBufferPointer(rebasing: output[0..<out.pos]))
            }
            let done = directive == ZSTD_e_end ? remaining == 0 : input.pos == input.size
            if done { return }
        }
    }
}
