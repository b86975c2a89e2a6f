import CZlib
import CZstd
import Foundation
import XCTest

@testable import FairArchive

final class CompressionTests: XCTestCase {
    // MARK: - CompressionAlgorithm

    func testAlgorithmDefaultsAndLevels() {
        XCTAssertEqual(CompressionAlgorithm.allCases, [.gzip, .zstd])
        XCTAssertEqual(CompressionAlgorithm(rawValue: "gzip"), .gzip)
        XCTAssertEqual(CompressionAlgorithm(rawValue: "zstd"), .zstd)
        XCTAssertEqual(CompressionAlgorithm.gzip.defaultLevel, 1)
        XCTAssertEqual(CompressionAlgorithm.zstd.defaultLevel, 3)
        XCTAssertEqual(CompressionAlgorithm.gzip.levels, 1...9)
        XCTAssertEqual(CompressionAlgorithm.zstd.levels, 1...19)
        for algorithm in CompressionAlgorithm.allCases {
            XCTAssertTrue(algorithm.levels.contains(algorithm.defaultLevel))
        }
    }

    func testMakeCompressorReturnsMatchingStage() throws {
        let gzip = try CompressionAlgorithm.gzip.makeCompressor(level: 1, workers: 2, downstream: CollectingSink())
        XCTAssertTrue(gzip is GzipCompressor)
        let zstd = try CompressionAlgorithm.zstd.makeCompressor(level: 3, workers: 2, downstream: CollectingSink())
        XCTAssertTrue(zstd is ZstdCompressor)
    }

    func testLevelsOutsideTheRangeAreRejected() {
        for (algorithm, level) in [(CompressionAlgorithm.gzip, 0), (.gzip, 10), (.zstd, 0), (.zstd, 20)] {
            XCTAssertThrowsError(try algorithm.makeCompressor(level: level, workers: 1, downstream: CollectingSink())) {
                guard case ArchiveError.compression = $0 else { return XCTFail("unexpected error \($0)") }
            }
        }
        XCTAssertThrowsError(try GzipCompressor(level: 1, workers: 1, blockSize: 0, downstream: CollectingSink()))
    }

    // MARK: - gzip

    func testGzipRoundTripsThroughZlib() throws {
        let input = TestData.mixed(count: 3 << 20 + 12345, seed: 1)
        let compressed = try gzip(input, level: 6, workers: 2, blockSize: 256 << 10)
        XCTAssertEqual(try inflateGzip(compressed), input)
        XCTAssertLessThan(compressed.count, input.count)
    }

    func testGzipOutputDependsOnlyOnInputLevelAndBlockSize() throws {
        let input = TestData.mixed(count: 2 << 20 + 777, seed: 2)
        let reference = try gzip(input, level: 1, workers: 1, blockSize: 128 << 10)
        for workers in [2, 4] {
            XCTAssertEqual(try gzip(input, level: 1, workers: workers, blockSize: 128 << 10), reference,
                           "\(workers) workers")
        }
        XCTAssertEqual(try gzip(input, level: 1, workers: 4, blockSize: 128 << 10), reference, "second run")
        // The same blocks, whatever pieces the input arrives in.
        for chunk in [1, 1000, 65536, 3 << 20] {
            let sliced = try gzip(input.prefix(300_000), level: 1, workers: 2, blockSize: 64 << 10, chunk: chunk)
            XCTAssertEqual(sliced, try gzip(input.prefix(300_000), level: 1, workers: 1, blockSize: 64 << 10),
                           "chunk \(chunk)")
        }
    }

    func testGzipHeaderIsFixedAndTrailerHoldsCRCAndSize() throws {
        let input = TestData.mixed(count: 500_000, seed: 3)
        let expectedCRC = input.withUnsafeBytes {
            UInt32(crc32_z(0, $0.baseAddress!.assumingMemoryBound(to: Bytef.self), z_size_t($0.count)))
        }
        for (level, extraFlags) in [(1, UInt8(4)), (6, 0), (9, 2)] {
            let compressed = try gzip(input, level: level, workers: 2, blockSize: 100_000)
            XCTAssertEqual(Array(compressed.prefix(10)), [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3])
            let trailer = Array(compressed.suffix(8))
            XCTAssertEqual(littleEndian(trailer[0..<4]), expectedCRC, "level \(level)")
            XCTAssertEqual(littleEndian(trailer[4..<8]), UInt32(input.count), "level \(level)")
        }
    }

    func testGzipEmptyInputIsAValidMember() throws {
        let compressed = try gzip([], level: 1, workers: 2)
        XCTAssertEqual(compressed, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try inflateGzip(compressed), [])
    }

    func testGzipInputOfWholeBlocks() throws {
        let input = TestData.mixed(count: 4 * 65536, seed: 4)
        XCTAssertEqual(try inflateGzip(try gzip(input, level: 1, workers: 2, blockSize: 65536)), input)
        let one = Array(input.prefix(65536))
        XCTAssertEqual(try inflateGzip(try gzip(one, level: 9, workers: 3, blockSize: 65536)), one)
    }

    func testGzipBlocksSmallerThanTheWindow() throws {
        // Each block is primed with the last 32 KiB of input, which then spans several blocks.
        let input = TestData.mixed(count: 200_000, seed: 5)
        let compressed = try gzip(input, level: 6, workers: 3, blockSize: 5000)
        XCTAssertEqual(try inflateGzip(compressed), input)
        XCTAssertEqual(try gzip(input, level: 6, workers: 1, blockSize: 5000), compressed)
    }

    func testGzipDecompressesWithGzipAndPigz() throws {
        let input = TestData.mixed(count: 3 << 20, seed: 6)
        let compressed = try gzip(input, level: 1, workers: 2, blockSize: 1 << 20)
        var ran = false
        for tool in ["/bin/gzip", "/usr/bin/gzip", "/usr/bin/pigz"] where FileManager.default.isExecutableFile(atPath: tool) {
            XCTAssertEqual(try runTool(tool, ["-dc"], input: compressed), input, tool)
            ran = true
        }
        if !ran { throw XCTSkip("neither gzip nor pigz is installed") }
    }

    func testGzipStreamsBlocksBeforeFinish() throws {
        let sink = CollectingSink()
        let compressor = try GzipCompressor(level: 1, workers: 1, blockSize: 32 << 10, downstream: sink)
        let input = TestData.mixed(count: 1 << 20, seed: 7)
        try feed(input, to: compressor, chunk: 16 << 10)
        // Only a few blocks may be held back; the rest must already have reached downstream.
        XCTAssertGreaterThan(sink.bytes.count, 0)
        XCTAssertFalse(sink.finished)
        try compressor.finish()
        XCTAssertTrue(sink.finished)
        XCTAssertEqual(try inflateGzip(sink.bytes), input)
    }

    func testGzipWriteAfterFinishThrows() throws {
        let compressor = try GzipCompressor(level: 1, workers: 1, downstream: CollectingSink())
        try compressor.finish()
        XCTAssertThrowsError(try compressor.write([1, 2, 3]))
        XCTAssertThrowsError(try compressor.finish())
    }

    func testGzipDownstreamErrorSurfaces() throws {
        let sink = CollectingSink()
        sink.failWrites = true
        let compressor = try GzipCompressor(level: 1, workers: 2, blockSize: 32 << 10, downstream: sink)
        XCTAssertThrowsError(try {
            try self.feed(TestData.mixed(count: 1 << 20, seed: 8), to: compressor, chunk: 1 << 16)
            try compressor.finish()
        }()) { XCTAssertEqual($0 as? CollectingSink.Failure, .refused) }
    }

    func testGzipAbandonedCompressorStopsItsWorkers() throws {
        for _ in 0..<20 {
            let compressor = try GzipCompressor(level: 1, workers: 4, blockSize: 32 << 10, downstream: CollectingSink())
            try feed(TestData.mixed(count: 300_000, seed: 9), to: compressor, chunk: 1 << 16)
            // Dropped without finish: deinit must stop and join the workers.
        }
    }

    // MARK: - zstd

    func testZstdRoundTrips() throws {
        let input = TestData.mixed(count: 3 << 20 + 99, seed: 10)
        let compressed = try zstd(input, level: 3, workers: 2)
        XCTAssertEqual(try decompressZstd(compressed), input)
        XCTAssertLessThan(compressed.count, input.count)
        // Frame header descriptor: the content checksum flag is bit 2.
        XCTAssertEqual(Array(compressed.prefix(4)), [0x28, 0xb5, 0x2f, 0xfd])
        XCTAssertNotEqual(compressed[4] & 0x04, 0)
    }

    func testZstdOutputDoesNotDependOnWorkerCount() throws {
        // 16 MiB is a whole number of libzstd jobs at level 3 (8 MiB each): fed naively, libzstd
        // ends such a frame one way or another depending on whether a worker happens to be free.
        for count in [16 << 20, 9 << 20 + 4321] {
            let input = TestData.mixed(count: count, seed: 11)
            let reference = try zstd(input, level: 3, workers: 1)
            for workers in [2, 4, 2] {
                XCTAssertEqual(try zstd(input, level: 3, workers: workers), reference, "\(count) bytes, \(workers) workers")
            }
            XCTAssertEqual(try zstd(input, level: 3, workers: 2, chunk: 100_003), reference, "\(count) bytes, other chunks")
            XCTAssertEqual(try decompressZstd(reference), input)
        }
    }

    func testZstdEmptyAndTinyInputs() throws {
        for input in [[], [42], Array("hello, layer".utf8)] as [[UInt8]] {
            let compressed = try zstd(input, level: 19, workers: 2)
            XCTAssertEqual(try decompressZstd(compressed), input)
            XCTAssertEqual(try zstd(input, level: 19, workers: 1), compressed)
        }
    }

    func testZstdDecompressesWithZstdTool() throws {
        let tool = "/usr/bin/zstd"
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw XCTSkip("zstd is not installed") }
        let input = TestData.mixed(count: 2 << 20, seed: 12)
        XCTAssertEqual(try runTool(tool, ["-dc", "-q"], input: try zstd(input, level: 3, workers: 2)), input)
    }

    func testZstdFinishesDownstreamOnceAndRejectsLaterWrites() throws {
        let sink = CollectingSink()
        let compressor = try ZstdCompressor(level: 3, workers: 1, downstream: sink)
        try compressor.write([1, 2, 3])
        try compressor.finish()
        XCTAssertTrue(sink.finished)
        XCTAssertThrowsError(try compressor.write([4]))
        XCTAssertThrowsError(try compressor.finish())
    }

    // MARK: - Helpers

    private func gzip<Bytes: Collection>(_ input: Bytes, level: Int, workers: Int, blockSize: Int = 1 << 20,
                                         chunk: Int = 1 << 20) throws -> [UInt8] where Bytes.Element == UInt8 {
        let sink = CollectingSink()
        let compressor = try GzipCompressor(level: level, workers: workers, blockSize: blockSize, downstream: sink)
        try feed(Array(input), to: compressor, chunk: chunk)
        try compressor.finish()
        XCTAssertTrue(sink.finished)
        return sink.bytes
    }

    private func zstd(_ input: [UInt8], level: Int, workers: Int, chunk: Int = 1 << 20) throws -> [UInt8] {
        let sink = CollectingSink()
        let compressor = try ZstdCompressor(level: level, workers: workers, downstream: sink)
        try feed(input, to: compressor, chunk: chunk)
        try compressor.finish()
        XCTAssertTrue(sink.finished)
        return sink.bytes
    }

    private func feed(_ input: [UInt8], to sink: ByteSink, chunk: Int) throws {
        try input.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let end = min(all.count, offset + chunk)
                try sink.write(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                offset = end
            }
        }
    }

    private func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Inflates a gzip stream with zlib, requiring it to be exactly one member.
    private func inflateGzip(_ compressed: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16: gzip wrapper only.
        XCTAssertEqual(inflateInit2_(&stream, 31, zlibVersion(), Int32(MemoryLayout<z_stream>.size)), Z_OK)
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var input = compressed
        let result: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let result: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let result = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: out.prefix(out.count - Int(stream.avail_out)))
                    return result
                }
                if result != Z_OK { return result }
            }
        }
        XCTAssertEqual(result, Z_STREAM_END)
        XCTAssertEqual(stream.avail_in, 0, "bytes after the gzip member")
        return output
    }

    private func decompressZstd(_ compressed: [UInt8]) throws -> [UInt8] {
        let stream = ZSTD_createDStream()
        defer { ZSTD_freeDStream(stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        var remaining = 1
        compressed.withUnsafeBytes { inputBytes in
            var input = ZSTD_inBuffer(src: inputBytes.baseAddress, size: inputBytes.count, pos: 0)
            while input.pos < input.size || remaining != 0 {
                let before = input.pos
                buffer.withUnsafeMutableBytes { out in
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    remaining = ZSTD_decompressStream(stream, &outBuffer, &input)
                    output.append(contentsOf: out.prefix(outBuffer.pos))
                }
                if ZSTD_isError(remaining) != 0 {
                    XCTFail(String(cString: ZSTD_getErrorName(remaining)))
                    return
                }
                if input.pos == before && input.pos == input.size && remaining != 0 {
                    XCTFail("truncated zstd frame")
                    return
                }
            }
        }
        return output
    }

    /// Runs `tool` with `input` on standard input and returns its standard output.
    private func runTool(_ tool: String, _ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("compression-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputURL = directory.appendingPathComponent("in")
        let outputURL = directory.appendingPathComponent("out")
        try Data(input).write(to: inputURL)
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: inputURL)
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(tool) \(arguments)")
        return [UInt8](try Data(contentsOf: outputURL))
    }
}

/// Collects everything written to it, and can refuse writes to test error paths.
private final class CollectingSink: ByteSink {
    enum Failure: Error { case refused }
    var bytes: [UInt8] = []
    var finished = false
    var failWrites = false

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        if failWrites { throw Failure.refused }
        bytes.append(contentsOf: buffer)
    }

    func finish() throws {
        XCTAssertFalse(finished, "finished twice")
        finished = true
    }
}

/// Reproducible input that looks like a layer: stretches of incompressible bytes alternating
/// with stretches of text-like data built from a small vocabulary.
private enum TestData {
    static func mixed(count: Int, seed: UInt64) -> [UInt8] {
        let vocabulary = Array("""
            func main() { let layer = try build(context, platform: .linux) } // usr/lib/x86_64-linux-gnu \
            #include <stdio.h> static const char *name = "application/vnd.oci.image.layer.v1.tar+gzip"; \
            The quick brown fox jumps over the lazy dog. Lorem ipsum dolor sit amet, consectetur. \
            export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n
            """.utf8)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { out in
            var offset = 0
            var random = true
            while offset < count {
                let stretch = min(count - offset, 4096 + Int(next() % 60000))
                if random {
                    var i = 0
                    while i + 8 <= stretch {
                        out.storeBytes(of: next(), toByteOffset: offset + i, as: UInt64.self)
                        i += 8
                    }
                    while i < stretch { out[offset + i] = UInt8(truncatingIfNeeded: next()); i += 1 }
                } else {
                    var i = 0
                    while i < stretch {
                        let start = Int(next() % UInt64(vocabulary.count - 48))
                        let length = min(stretch - i, 8 + Int(next() % 40))
                        vocabulary.withUnsafeBytes {
                            (out.baseAddress! + offset + i).copyMemory(from: $0.baseAddress! + start, byteCount: length)
                        }
                        i += length
                    }
                }
                offset += stretch
                random.toggle()
            }
        }
        return result
    }
}
