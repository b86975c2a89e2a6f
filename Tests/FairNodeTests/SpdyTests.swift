import Crypto
@testable import FairNode
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SPDY/3.1 as kubectl 1.32's port-forward speaks it inside its WebSocket. The compressed
/// vectors were made with C zlib 1.2.13 (level 9, the SPDY/3 dictionary, a sync flush per
/// block) and checked against Python's zlib; kubectl's Go zlib writes other bytes for the same
/// headers, equally valid, which is why the inflater is tested on vectors and the deflater by
/// round trip.
final class SpdyTests: XCTestCase {
    /// SYN_STREAM 1, the session's first header block: streamtype error, port 8080, requestid 0.
    static let errorSynStream = hex("""
        80030001 0000003d 00000001 00000000 0000
        78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45e01c6061606100a4398b20d198094ade8c0600000000ffff
        """)
    /// SYN_STREAM 3, the next block on the same stream: streamtype data, port 8080, requestid 0.
    static let dataSynStream = hex("80030001 00000018 00000003 00000000 0000 c2aa19540e2512d60b000000ffff")
    /// The uncompressed block of `errorSynStream`.
    static let errorHeaderBlock = hex("""
        00000003 0000000a 73747265616d74797065 00000005 6572726f72 00000004 706f7274 00000004 38303830
        00000009 726571756573746964 00000001 30
        """)

    // MARK: Dictionary

    func testDictionaryIsSpdy3s() {
        let bytes = SpdyDictionary.bytes
        XCTAssertEqual(bytes.count, 1423)
        XCTAssertEqual(adler32(bytes), 0xe3c6_a7c2)
        XCTAssertEqual(adler32(bytes), SpdyDictionary.adler32)
        XCTAssertEqual(hexString(Array(SHA256.hash(data: bytes))), "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02")
        XCTAssertEqual(Array(bytes.prefix(11)), [0, 0, 0, 7] + Array("options".utf8))
        XCTAssertEqual(String(decoding: bytes.suffix(32), as: UTF8.self), "charset=iso-8859-1,utf-,*,enq=0.")
    }

    // MARK: Header compression

    func testInflatesKubectlsHeaderBlocks() throws {
        let decompressor = try SpdyHeaderDecompressor()
        let error = try decompressor.decompressHeaders(Array(Self.errorSynStream[18...]))
        XCTAssertEqual(error.encoded(), Self.errorHeaderBlock)
        XCTAssertEqual(error["streamtype"], "error")
        XCTAssertEqual(error["port"], "8080")
        XCTAssertEqual(error["requestid"], "0")
        let data = try decompressor.decompressHeaders(Array(Self.dataSynStream[18...]))
        XCTAssertEqual(data, SpdyHeaderBlock(["streamtype": "data", "port": "8080", "requestid": "0"]))
    }

    func testInflatesBlocksFedOneByteAtATime() throws {
        let decompressor = try SpdyHeaderDecompressor()
        var inflated: [UInt8] = []
        for byte in Self.errorSynStream[18...] + Self.dataSynStream[18...] {
            inflated += try decompressor.decompress([byte])
        }
        let data = SpdyHeaderBlock(["streamtype": "data", "port": "8080", "requestid": "0"]).encoded()
        XCTAssertEqual(inflated, Self.errorHeaderBlock + data)
    }

    func testCompressedBlocksRoundTripInOrder() throws {
        let compressor = try SpdyHeaderCompressor()
        let decompressor = try SpdyHeaderDecompressor()
        let blocks = [
            SpdyHeaderBlock(),
            SpdyHeaderBlock(["streamtype": "error", "port": "8080", "requestid": "0"]),
            SpdyHeaderBlock(["streamtype": "data", "port": "8080", "requestid": "0"]),
            SpdyHeaderBlock(["x-long": String(repeating: "0123456789", count: 3000)]),
            SpdyHeaderBlock(),
        ]
        for (index, block) in blocks.enumerated() {
            let compressed = try compressor.compress(block)
            if index == 0 {
                // FLEVEL 3 with FDICT, then the dictionary's Adler-32: what kubectl's reader checks.
                XCTAssertEqual(Array(compressed.prefix(6)), [0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2])
            }
            XCTAssertEqual(Array(compressed.suffix(4)), [0x00, 0x00, 0xff, 0xff], "each block ends with a sync flush")
            XCTAssertEqual(try decompressor.decompressHeaders(compressed), block)
        }
    }

    func testSynRepliesMatchReferenceBytes() throws {
        let compressor = try SpdyHeaderCompressor()
        XCTAssertEqual(try SpdyFrame.synReply(streamID: 1, flags: [], headers: SpdyHeaderBlock()).encoded(compressingWith: compressor),
                       hex("80030002 00000014 00000001 78f9e3c6a7c202a6230600000000ffff"))
        XCTAssertEqual(try SpdyFrame.synReply(streamID: 3, flags: [], headers: SpdyHeaderBlock()).encoded(compressingWith: compressor),
                       hex("80030002 0000000c 00000003 020100000000ffff"))
    }

    func testInflatedSizeIsBounded() throws {
        let compressor = try SpdyHeaderCompressor()
        let huge = try compressor.compress(SpdyHeaderBlock(["x": String(repeating: "a", count: 70000)]))
        XCTAssertLessThan(huge.count, 1000)
        XCTAssertThrowsError(try SpdyHeaderDecompressor().decompress(huge)) { error in
            XCTAssertEqual(error as? SpdyError, .headerBlockTooLarge(limit: SpdyHeaderDecompressor.maximumBlockSize))
        }
    }

    func testForeignDictionaryIsRefused() throws {
        // A zlib stream primed with some other dictionary (Adler-32 of "abc").
        XCTAssertThrowsError(try SpdyHeaderDecompressor().decompress(hex("78f9024d0127 62000200000000ffff"))) { error in
            guard case .headerCompression? = error as? SpdyError else { return XCTFail("\(error)") }
        }
    }

    func testHeaderBlocksRejectWhatSpdystreamRejects() {
        func block(_ pairs: [(String, String)], count: UInt32? = nil) -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.appendBigEndian(count ?? UInt32(pairs.count))
            for (name, value) in pairs {
                for text in [name, value] {
                    bytes.appendBigEndian(UInt32(text.utf8.count))
                    bytes += Array(text.utf8)
                }
            }
            return bytes
        }
        XCTAssertThrowsError(try SpdyHeaderBlock.decode(block([("Port", "80")]))) {
            XCTAssertEqual($0 as? SpdyError, .upperCaseHeaderName("Port"))
        }
        XCTAssertThrowsError(try SpdyHeaderBlock.decode(block([("port", "80"), ("port", "81")]))) {
            XCTAssertEqual($0 as? SpdyError, .duplicateHeaderName("port"))
        }
        XCTAssertThrowsError(try SpdyHeaderBlock.decode(block([("port", "80")], count: 2)))
        XCTAssertThrowsError(try SpdyHeaderBlock.decode(block([], count: 0x7fff_ffff)))
        XCTAssertThrowsError(try SpdyHeaderBlock.decode(Array(block([("port", "80")]).dropLast())))
        XCTAssertEqual(try SpdyHeaderBlock.decode(block([("port", "80\u{0}81")]))["port"], "80", "the first of NUL-joined values")
    }

    // MARK: Frames

    func testFrameEncodings() throws {
        let compressor = try SpdyHeaderCompressor()
        XCTAssertEqual(try SpdyFrame.data(streamID: 1, flags: .fin, payload: []).encoded(compressingWith: compressor), hex("00000001 01000000"))
        XCTAssertEqual(try SpdyFrame.data(streamID: 3, flags: [], payload: [0x61, 0x62]).encoded(compressingWith: compressor), hex("00000003 00000002 6162"))
        XCTAssertEqual(try SpdyFrame.rstStream(streamID: 3, status: .cancel).encoded(compressingWith: compressor), hex("80030003 00000008 00000003 00000005"))
        XCTAssertEqual(try SpdyFrame.ping(id: 1).encoded(compressingWith: compressor), hex("80030006 00000004 00000001"))
        XCTAssertEqual(try SpdyFrame.goAway(lastGoodStreamID: 3, status: .ok).encoded(compressingWith: compressor), hex("80030007 00000008 00000003 00000000"))
    }

    /// kubectl's framer writes each field on its own, and each write is a message: a
    /// SYN_STREAM comes as 8 messages, a DATA frame as 3, the last empty when there is no payload.
    func testReaderReassemblesKubectlsPieces() throws {
        let dataFin = hex("00000001 01000000")
        var messages: [[UInt8]] = []
        for frame in [Self.errorSynStream, dataFin, Self.dataSynStream] {
            messages += kubectlPieces(frame) + [[]]
        }
        XCTAssertEqual(kubectlPieces(Self.errorSynStream).map(\.count), [2, 2, 4, 4, 4, 1, 1, 51])
        XCTAssertEqual(kubectlPieces(dataFin).map(\.count), [4, 4, 0])

        var reader = try SpdyFrameReader(decompressor: SpdyHeaderDecompressor())
        var frames: [SpdyFrame] = []
        for message in messages {
            reader.append(message)
            while let frame = try reader.next() { frames.append(frame) }
        }
        XCTAssertEqual(frames, Self.kubectlOpening)
        XCTAssertEqual(reader.bufferedCount, 0)
    }

    func testReaderTakesOneByteAtATime() throws {
        var reader = try SpdyFrameReader(decompressor: SpdyHeaderDecompressor())
        var frames: [SpdyFrame] = []
        for byte in Self.errorSynStream + hex("00000001 01000000") + Self.dataSynStream {
            reader.append([byte])
            reader.append([])
            while let frame = try reader.next() { frames.append(frame) }
        }
        XCTAssertEqual(frames, Self.kubectlOpening)
    }

    func testReaderSkipsUnknownControlFrames() throws {
        var reader = try SpdyFrameReader(decompressor: SpdyHeaderDecompressor())
        reader.append(hex("8003000a 00000003 aabbcc") + hex("80030006 00000004 00000007"))
        XCTAssertEqual(try reader.next(), .ping(id: 7))
        XCTAssertNil(try reader.next())
    }

    func testReaderRefusesMalformedFixedFrames() throws {
        var reader = try SpdyFrameReader(decompressor: SpdyHeaderDecompressor())
        reader.append(hex("80030006 00000005 0000000100"))
        XCTAssertThrowsError(try reader.next())
        var zeroStatus = try SpdyFrameReader(decompressor: SpdyHeaderDecompressor())
        zeroStatus.append(hex("80030003 00000008 00000001 00000000"))
        XCTAssertThrowsError(try zeroStatus.next())
    }

    static let kubectlOpening: [SpdyFrame] = [
        .synStream(streamID: 1, associatedStreamID: 0, priority: 0, flags: [],
                   headers: SpdyHeaderBlock(["streamtype": "error", "port": "8080", "requestid": "0"])),
        .data(streamID: 1, flags: .fin, payload: []),
        .synStream(streamID: 3, associatedStreamID: 0, priority: 0, flags: [],
                   headers: SpdyHeaderBlock(["streamtype": "data", "port": "8080", "requestid": "0"])),
    ]

    // MARK: Stream requests

    func testStreamHeadersAreCheckedAsKubeletDoes() throws {
        let error = try SpdyPortForwardStream(id: 1, headers: SpdyHeaderBlock(["streamtype": "error", "port": "8080", "requestid": "4"]))
        XCTAssertEqual(error.kind, .error)
        XCTAssertEqual(error.port, 8080)
        XCTAssertEqual(error.requestID, "4")
        for bad in ["0", "65536", "+80", " 80", "x", ""] {
            XCTAssertThrowsError(try SpdyPortForwardStream(id: 1, headers: SpdyHeaderBlock(["streamtype": "data", "port": bad])), bad)
        }
        XCTAssertThrowsError(try SpdyPortForwardStream(id: 1, headers: SpdyHeaderBlock(["streamtype": "stdin", "port": "80"])))
        XCTAssertThrowsError(try SpdyPortForwardStream(id: 1, headers: SpdyHeaderBlock(["port": "80"])))
    }

    func testStreamsWithoutRequestIDPairByStreamID() throws {
        let error = try SpdyPortForwardStream(id: 5, headers: SpdyHeaderBlock(["streamtype": "error", "port": "80"]))
        let data = try SpdyPortForwardStream(id: 7, headers: SpdyHeaderBlock(["streamtype": "data", "port": "80"]))
        XCTAssertEqual(error.requestID, "5")
        XCTAssertEqual(data.requestID, "5")
    }

    // MARK: Sessions

    func testSessionEchoesPingsAndRefusesBadStreams() async throws {
        let kubectl = try ScriptedKubectl()
        let session = SpdyPortForwardSession(podIP: "127.0.0.1", podName: "web", podUID: "u1")
        let served = Task { await session.serve(receive: kubectl.receive, transmit: kubectl.transmit) }
        try kubectl.send(.ping(id: 1))
        try kubectl.send(kubectl.open(1, ["streamtype": "error", "port": "0", "requestid": "0"]))
        try kubectl.send(kubectl.open(3, ["streamtype": "bogus", "port": "80", "requestid": "0"]))
        // Backwards: 1 is below the next id the session takes.
        try kubectl.send(kubectl.open(1, ["streamtype": "error", "port": "80", "requestid": "0"]))
        try kubectl.send(.ping(id: 3))
        try kubectl.send(.goAway(lastGoodStreamID: 0, status: .ok))
        let input = await served.value
        kubectl.close()
        await input.value
        XCTAssertEqual(try kubectl.receivedFrames(), [
            .ping(id: 1),
            .rstStream(streamID: 1, status: .cancel),
            .rstStream(streamID: 3, status: .cancel),
            .rstStream(streamID: 1, status: .protocolError),
            .ping(id: 3),
        ])
    }

    func testSessionForwardsAConnection() async throws {
        let pod = try LoopbackPod.echoingAtEnd()
        let kubectl = try ScriptedKubectl()
        let session = SpdyPortForwardSession(podIP: "127.0.0.1", podName: "web", podUID: "u1")
        let served = Task { await session.serve(receive: kubectl.receive, transmit: kubectl.transmit) }
        let port = String(pod.port)
        try kubectl.send(kubectl.open(1, ["streamtype": "error", "port": port, "requestid": "0"]))
        try kubectl.send(.data(streamID: 1, flags: .fin, payload: []))
        try kubectl.send(kubectl.open(3, ["streamtype": "data", "port": port, "requestid": "0"]))
        try kubectl.send(.data(streamID: 3, flags: [], payload: Array("hello".utf8)))
        try kubectl.send(.data(streamID: 3, flags: .fin, payload: []))
        let frames = try await kubectl.waitForFrames { $0.contains(.data(streamID: 1, flags: .fin, payload: [])) }
        try kubectl.send(.goAway(lastGoodStreamID: 0, status: .ok))
        let input = await served.value
        kubectl.close()
        await input.value

        XCTAssertEqual(Array(frames.prefix(2)), [
            .synReply(streamID: 1, flags: [], headers: SpdyHeaderBlock()),
            .synReply(streamID: 3, flags: [], headers: SpdyHeaderBlock()),
        ])
        XCTAssertEqual(String(decoding: payloads(on: 3, in: frames), as: UTF8.self), "echo:hello")
        XCTAssertEqual(payloads(on: 1, in: frames), [], "nothing on the error stream when all went well")
        let dataFin = try XCTUnwrap(frames.firstIndex(of: .data(streamID: 3, flags: .fin, payload: [])))
        let errorFin = try XCTUnwrap(frames.firstIndex(of: .data(streamID: 1, flags: .fin, payload: [])))
        XCTAssertLessThan(dataFin, errorFin)
    }

    func testSessionPairsByRequestIDAndReportsDialFailures() async throws {
        let (first, second) = (closedLoopbackPort(), closedLoopbackPort())
        let kubectl = try ScriptedKubectl()
        let session = SpdyPortForwardSession(podIP: "127.0.0.1", podName: "web", podUID: "u1")
        let served = Task { await session.serve(receive: kubectl.receive, transmit: kubectl.transmit) }
        // Two connections opened together: their ids interleave, their request ids pair them.
        try kubectl.send(kubectl.open(1, ["streamtype": "error", "port": String(first), "requestid": "0"]))
        try kubectl.send(kubectl.open(3, ["streamtype": "error", "port": String(second), "requestid": "1"]))
        try kubectl.send(kubectl.open(5, ["streamtype": "data", "port": String(first), "requestid": "0"]))
        try kubectl.send(kubectl.open(7, ["streamtype": "data", "port": String(second), "requestid": "1"]))
        let frames = try await kubectl.waitForFrames {
            $0.contains(.data(streamID: 1, flags: .fin, payload: [])) && $0.contains(.data(streamID: 3, flags: .fin, payload: []))
        }
        try kubectl.send(.goAway(lastGoodStreamID: 0, status: .ok))
        let input = await served.value
        kubectl.close()
        await input.value

        for (errorStream, dataStream, port) in [(UInt32(1), UInt32(5), first), (3, 7, second)] {
            let message = String(decoding: payloads(on: errorStream, in: frames), as: UTF8.self)
            XCTAssertTrue(message.hasPrefix("error forwarding port \(port) to pod web, uid u1: dial tcp 127.0.0.1:\(port): connect:"), message)
            XCTAssertTrue(frames.contains(.data(streamID: dataStream, flags: .fin, payload: [])))
            XCTAssertEqual(payloads(on: dataStream, in: frames), [])
        }
    }

    func testSessionStreamsALargeAnswerInBoundedFrames() async throws {
        let body = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let pod = try LoopbackPod { writeAll(body, to: $0) }
        let kubectl = try ScriptedKubectl()
        let session = SpdyPortForwardSession(podIP: "127.0.0.1", podName: "web", podUID: "u1")
        let served = Task { await session.serve(receive: kubectl.receive, transmit: kubectl.transmit) }
        let port = String(pod.port)
        try kubectl.send(kubectl.open(1, ["streamtype": "error", "port": port, "requestid": "0"]))
        try kubectl.send(.data(streamID: 1, flags: .fin, payload: []))
        try kubectl.send(kubectl.open(3, ["streamtype": "data", "port": port, "requestid": "0"]))
        try kubectl.send(.data(streamID: 3, flags: .fin, payload: []))
        let frames = try await kubectl.waitForFrames { $0.contains(.data(streamID: 1, flags: .fin, payload: [])) }
        try kubectl.send(.goAway(lastGoodStreamID: 3, status: .ok))
        let input = await served.value
        kubectl.close()
        await input.value

        XCTAssertTrue(payloads(on: 3, in: frames) == body, "the pod's bytes arrive whole and in order")
        for case let .data(_, _, payload) in frames {
            XCTAssertLessThanOrEqual(payload.count, SpdyDataPump.chunkSize)
        }
    }

    /// kubectl's side once the pod has finished: it resets the data stream, and then waits for
    /// the error stream's end before it settles the connection.
    func testPodEndThenClientResetFinishesTheErrorStream() async throws {
        let pod = try LoopbackPod { writeAll(Array("hi".utf8), to: $0) }
        let kubectl = try ScriptedKubectl()
        let session = SpdyPortForwardSession(podIP: "127.0.0.1", podName: "web", podUID: "u1")
        let served = Task { await session.serve(receive: kubectl.receive, transmit: kubectl.transmit) }
        let port = String(pod.port)
        try kubectl.send(kubectl.open(1, ["streamtype": "error", "port": port, "requestid": "0"]))
        try kubectl.send(.data(streamID: 1, flags: .fin, payload: []))
        try kubectl.send(kubectl.open(3, ["streamtype": "data", "port": port, "requestid": "0"]))
        _ = try await kubectl.waitForFrames { $0.contains(.data(streamID: 3, flags: .fin, payload: [])) }
        try kubectl.send(.rstStream(streamID: 3, status: .cancel))
        let frames = try await kubectl.waitForFrames { $0.contains(.data(streamID: 1, flags: .fin, payload: [])) }
        try kubectl.send(.goAway(lastGoodStreamID: 3, status: .ok))
        let input = await served.value
        kubectl.close()
        await input.value

        XCTAssertEqual(String(decoding: payloads(on: 3, in: frames), as: UTF8.self), "hi")
        XCTAssertEqual(frames.filter { if case .data(1, _, _) = $0 { return true } else { return false } },
                       [.data(streamID: 1, flags: .fin, payload: [])])
    }

    func testClientLeavingClosesPodConnections() async throws {
        let accepted = Signal()
        let podSawEnd = Signal()
        let pod = try LoopbackPod { connection in
            accepted.raise()
            _ = readToEnd(connection)
            podSawEnd.raise()
        }
        let kubectl = try ScriptedKubectl()
        let session = SpdyPortForwardSession(podIP: "127.0.0.1", podName: "web", podUID: "u1")
        let served = Task { await session.serve(receive: kubectl.receive, transmit: kubectl.transmit) }
        let port = String(pod.port)
        try kubectl.send(kubectl.open(1, ["streamtype": "error", "port": port, "requestid": "0"]))
        try kubectl.send(kubectl.open(3, ["streamtype": "data", "port": port, "requestid": "0"]))
        let connected = try await accepted.wait()
        XCTAssertTrue(connected)
        // No GOAWAY: the WebSocket just ends, as when kubectl is killed.
        kubectl.close()
        let input = await served.value
        await input.value
        let ended = try await podSawEnd.wait()
        XCTAssertTrue(ended, "the pod connection is closed with the session")
    }

    func testCorruptHeaderBlockEndsTheSessionWithGoAway() async throws {
        let kubectl = try ScriptedKubectl()
        let session = SpdyPortForwardSession(podIP: "127.0.0.1", podName: "web", podUID: "u1")
        let served = Task { await session.serve(receive: kubectl.receive, transmit: kubectl.transmit) }
        kubectl.sendRaw(hex("80030001 0000000e 00000001 00000000 0000 deadbeef"))
        let input = await served.value
        kubectl.close()
        await input.value
        XCTAssertEqual(try kubectl.receivedFrames(), [.goAway(lastGoodStreamID: 0, status: .protocolError)])
    }
}

// MARK: Helpers

/// A scripted kubectl: frames go to the session cut as kubectl's framer cuts them, and what
/// the session writes is read back, one frame per message.
private final class ScriptedKubectl: @unchecked Sendable {
    private let compressor: SpdyHeaderCompressor
    private let toSession: AsyncStream<[UInt8]>.Continuation
    private let inbox: Inbox
    private let lock = NSLock()
    private var fromSession: [[UInt8]] = []

    init() throws {
        compressor = try SpdyHeaderCompressor()
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        toSession = continuation
        inbox = Inbox(stream)
    }

    var receive: @Sendable () async -> [UInt8]? {
        { [inbox] in await inbox.next() }
    }

    var transmit: SpdyFrameWriter.Transmit {
        { [self] bytes in lock.withLock { fromSession.append(bytes) } }
    }

    func open(_ streamID: UInt32, _ headers: KeyValuePairs<String, String>) -> SpdyFrame {
        .synStream(streamID: streamID, associatedStreamID: 0, priority: 0, flags: [], headers: SpdyHeaderBlock(headers))
    }

    func send(_ frame: SpdyFrame) throws {
        for piece in kubectlPieces(try frame.encoded(compressingWith: compressor)) { toSession.yield(piece) }
    }

    func sendRaw(_ bytes: [UInt8]) {
        toSession.yield(bytes)
    }

    func close() {
        toSession.finish()
    }

    /// Everything the session wrote so far; each message must be exactly one frame.
    func receivedFrames() throws -> [SpdyFrame] {
        let messages = lock.withLock { fromSession }
        var reader = try SpdyFrameReader(decompressor: SpdyHeaderDecompressor())
        var frames: [SpdyFrame] = []
        for message in messages {
            reader.append(message)
            guard let frame = try reader.next(), reader.bufferedCount == 0 else {
                throw SpdyError.malformedFrame(type: "message", length: message.count, expected: "one whole frame")
            }
            frames.append(frame)
        }
        return frames
    }

    func waitForFrames(timeout: Duration = .seconds(10), until done: ([SpdyFrame]) -> Bool) async throws -> [SpdyFrame] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let frames = try receivedFrames()
            if done(frames) { return frames }
            guard ContinuousClock.now < deadline else {
                XCTFail("the session did not write what was expected; it wrote \(frames)")
                return frames
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// The messages for the session, read by one task.
private final class Inbox: @unchecked Sendable {
    private var iterator: AsyncStream<[UInt8]>.AsyncIterator

    init(_ stream: AsyncStream<[UInt8]>) {
        iterator = stream.makeAsyncIterator()
    }

    func next() async -> [UInt8]? {
        await iterator.next()
    }
}

/// A pod port on loopback that takes one connection and hands it to `serve`, which closes it.
private final class LoopbackPod: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32

    init(serve: @escaping @Sendable (_ connection: Int32) -> Void) throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        port = try bindLoopback(listener)
        guard listen(listener, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        Thread.detachNewThread { [listener] in
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            serve(connection)
            close(connection)
        }
    }

    /// Reads the connection to its end, then answers "echo:" and what it read.
    static func echoingAtEnd() throws -> LoopbackPod {
        try LoopbackPod { connection in
            let answer = Array("echo:".utf8) + readToEnd(connection)
            _ = answer.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

private func readToEnd(_ connection: Int32) -> [UInt8] {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
        if count <= 0 { return received }
        received += buffer[..<count]
    }
}

private func writeAll(_ bytes: [UInt8], to connection: Int32) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written <= 0 { return }
        offset += written
    }
}

/// A flag one thread sets and a test polls.
private final class Signal: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    func raise() { lock.withLock { raised = true } }
    var isRaised: Bool { lock.withLock { raised } }

    func wait(timeout: Duration = .seconds(10)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isRaised && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return isRaised
    }
}

/// A loopback port nobody listens on (bound, then let go).
private func closedLoopbackPort() -> UInt16 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    return (try? bindLoopback(descriptor)) ?? 9
}

private func bindLoopback(_ descriptor: Int32) throws -> UInt16 {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// A frame cut as spdystream's framer writes it, one field per write and so per message: the
/// control header as 2 + 2 + 4 bytes, then each fixed field, then the header block; a DATA frame
/// as id, flags and length, then the payload, an empty message when there is none.
private func kubectlPieces(_ frame: [UInt8]) -> [[UInt8]] {
    var sizes: [Int]
    let isData = frame[0] & 0x80 == 0
    if isData {
        sizes = [4, 4]
    } else {
        sizes = [2, 2, 4]
        switch UInt16(frame[2]) << 8 | UInt16(frame[3]) {
        case 1: sizes += [4, 4, 1, 1]
        case 2, 6, 8: sizes += [4]
        case 3, 7, 9: sizes += [4, 4]
        default: break
        }
    }
    var pieces: [[UInt8]] = []
    var offset = 0
    for size in sizes where offset + size <= frame.count {
        pieces.append(Array(frame[offset..<offset + size]))
        offset += size
    }
    if isData || offset < frame.count { pieces.append(Array(frame[offset...])) }
    return pieces
}

private func payloads(on streamID: UInt32, in frames: [SpdyFrame]) -> [UInt8] {
    frames.reduce(into: []) { bytes, frame in
        if case let .data(id, _, payload) = frame, id == streamID { bytes += payload }
    }
}

private func adler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in bytes {
        a = (a + UInt32(byte)) % 65521
        b = (b + a) % 65521
    }
    return b << 16 | a
}

private func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
