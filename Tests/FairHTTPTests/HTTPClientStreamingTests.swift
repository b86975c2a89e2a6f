import FairArchive
import Foundation
import XCTest

@testable import FairHTTP

final class HTTPClientStreamingTests: ServerTestCase {
    func testLargeDownloadStreamsIntoSinkWithBoundedMemory() throws {
        let size = 64 << 20
        let sink = MeasuringSink()
        let before = residentBytes()
        var lastProgress: (sent: Int64, received: Int64) = (-1, -1)
        var progressCalls = 0
        let response = try client.send(HTTPRequest(method: "GET", url: url("/download?size=\(size)")), sink: sink) {
            sent, received in
            XCTAssertGreaterThanOrEqual(received, lastProgress.received, "progress only grows")
            lastProgress = (sent, received)
            progressCalls += 1
        }
        try sink.finish()

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, [], "streamed to the sink, not collected")
        XCTAssertEqual(sink.digest.byteCount, Int64(size))
        XCTAssertEqual(sink.digest.hexDigest, downloadPatternSHA256(size: size))
        XCTAssertEqual(lastProgress.received, Int64(size))
        XCTAssertEqual(lastProgress.sent, 0)
        XCTAssertGreaterThan(progressCalls, 1)
        XCTAssertGreaterThan(before, 0)
        XCTAssertGreaterThan(sink.peakResident, 0)
        let growth = sink.peakResident - before
        XCTAssertLessThan(growth, 24 << 20, "resident memory grew by \(growth >> 20) MiB for a 64 MiB download")
    }

    func testSinkIsUsedForSuccessOnlyAndErrorBodiesAreKept() throws {
        for code in [500, 429, 404] {
            let sink = CollectingSink()
            let response = try client.send(HTTPRequest(method: "GET", url: url("/status?code=\(code)")), sink: sink)
            XCTAssertEqual(response.status, code)
            XCTAssertEqual(sink.bytes, [], "an error body never reaches the sink")
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            let errors = object?["errors"] as? [[String: Any]]
            XCTAssertEqual(errors?.first?["message"] as? String, "status \(code)")
            if code == 429 { XCTAssertEqual(response.headers["retry-after"], "1") }
        }
    }

    func testFileRangeUploadStreamsOnlyTheRange() throws {
        let content = testBytes(count: (5 << 20) + 123, seed: 42)
        let path = try temporaryFile(content)

        let offset = 1_234_567, length = 3 << 20
        var lastSent: Int64 = -1
        let response = try client.send(
            HTTPRequest(method: "PUT", url: url("/echo"), body: .file(path: path, offset: Int64(offset), length: Int64(length))),
            progress: { sent, _ in lastSent = sent })
        let echo = try Echo(response)
        XCTAssertEqual(echo.length, length)
        XCTAssertEqual(echo.sha256, sha256Hex(Array(content[offset..<(offset + length)])))
        XCTAssertEqual(echo.values("Content-Length"), [String(length)])
        XCTAssertEqual(lastSent, Int64(length))

        // Without a length: to the end of the file. Without an offset: the whole file.
        let tail = try Echo(send("POST", "/echo", body: .file(path: path, offset: 5_000_000)))
        XCTAssertEqual(tail.sha256, sha256Hex(Array(content[5_000_000...])))
        let whole = try Echo(send("PATCH", "/echo", body: .file(path: path)))
        XCTAssertEqual(whole.length, content.count)
        XCTAssertEqual(whole.sha256, sha256Hex(content))
        let empty = try Echo(send("PUT", "/echo", body: .file(path: path, offset: Int64(content.count))))
        XCTAssertEqual(empty.length, 0)
        XCTAssertEqual(empty.values("Content-Length"), ["0"])
    }

    func testOpenDescriptorUploadSendsThatFileAndLeavesItOpen() throws {
        let content = testBytes(count: (2 << 20) + 7, seed: 7)
        let path = try temporaryFile(content)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        // The path now names another file: what goes is the one that was opened.
        XCTAssertEqual(unlink(path), 0)
        try Data([9, 9, 9]).write(to: URL(fileURLWithPath: path))

        let whole = try Echo(send("PUT", "/echo", body: .descriptor(descriptor, name: path, length: Int64(content.count))))
        XCTAssertEqual(whole.length, content.count)
        XCTAssertEqual(whole.sha256, sha256Hex(content))
        // Still open, and read again from its start for another request.
        let part = try Echo(send("PUT", "/echo", body: .descriptor(descriptor, name: path, offset: 10, length: 1000)))
        XCTAssertEqual(part.sha256, sha256Hex(Array(content[10..<1010])))
        XCTAssertGreaterThanOrEqual(fcntl(descriptor, F_GETFD), 0)
    }

    func testFileRangeOutsideTheFileIsRejected() throws {
        let path = try temporaryFile([1, 2, 3])
        XCTAssertThrowsError(try send("PUT", "/echo", body: .file(path: path, offset: 2, length: 5))) {
            guard case ArchiveError.io = $0 else { return XCTFail("unexpected error \($0)") }
        }
        XCTAssertThrowsError(try send("PUT", "/echo", body: .file(path: path + ".missing"))) {
            guard case let ArchiveError.io(_, _, code) = $0 else { return XCTFail("unexpected error \($0)") }
            XCTAssertEqual(code, ENOENT)
        }
    }

    func testBodyLimitWithoutSink() throws {
        let exact = try client.send(HTTPRequest(method: "GET", url: url("/download?size=1000")), maxBodyBytes: 1000)
        XCTAssertEqual(exact.body.count, 1000)
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: url("/download?size=100000")),
                                             maxBodyBytes: 1000)) {
            XCTAssertEqual($0 as? HTTPError, .bodyTooLarge(url: self.url("/download?size=100000"), limit: 1000))
        }
        // The client is fine afterwards.
        XCTAssertEqual(try send("GET", "/download?size=3").body, [0, 1, 2])
    }

    func testThrowingSinkAbortsTheTransfer() throws {
        let sink = FailingSink()
        let request = HTTPRequest(method: "GET", url: url("/download?size=\(32 << 20)"))
        XCTAssertThrowsError(try client.send(request, sink: sink)) {
            XCTAssertEqual($0 as? HTTPError, .sink(url: request.url, message: "disk full"))
        }
        XCTAssertEqual(sink.writes, 1, "no more writes after the sink failed")
        XCTAssertEqual(try Echo(send("GET", "/echo")).method, "GET")
    }
}
