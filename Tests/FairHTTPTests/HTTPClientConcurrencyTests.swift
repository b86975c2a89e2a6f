import Foundation
import XCTest

@testable import FairHTTP

final class HTTPClientConcurrencyTests: ServerTestCase {
    func testKeepAliveConnectionIsReused() throws {
        for index in 0..<10 {
            _ = try Echo(send("GET", "/echo?\(index)"))
            _ = try send("HEAD", "/echo")
            _ = try Echo(send("PUT", "/echo", body: .bytes(testBytes(count: 10_000, seed: UInt64(index)))))
            _ = try Echo(send("DELETE", "/echo"))
            XCTAssertEqual(try send("GET", "/status?code=404").status, 404)
        }
        // 50 requests, and this one, over a single connection.
        XCTAssertEqual(try server.connectionCount(using: client), 1)
    }

    func testManyThreadsAtOnce() throws {
        let threads = 8, requestsPerThread = 20
        let lock = NSLock()
        var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<requestsPerThread {
                let body = testBytes(count: (thread * requestsPerThread + index) * 997, seed: UInt64(thread * 1000 + index))
                do {
                    let response = try client.send(HTTPRequest(
                        method: index % 2 == 0 ? "PUT" : "POST", url: url("/echo?t=\(thread)&i=\(index)"),
                        headers: HTTPHeaders([("X-Thread", String(thread))]), body: .bytes(body)))
                    let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
                    if echo.sha256 != sha256Hex(body) || echo.path != "/echo?t=\(thread)&i=\(index)"
                        || echo.values("X-Thread") != [String(thread)] {
                        lock.lock(); failures.append("thread \(thread) request \(index): mixed up"); lock.unlock()
                    }
                } catch {
                    lock.lock(); failures.append("thread \(thread) request \(index): \(error)"); lock.unlock()
                }
            }
        }
        XCTAssertEqual(failures, [])
        let connections = try server.connectionCount(using: client)
        XCTAssertLessThanOrEqual(connections, threads + 1, "\(threads * requestsPerThread) requests")
    }

    func testParallelDownloadsIntoSinks() throws {
        let size = 4 << 20
        let expected = downloadPatternSHA256(size: size)
        let lock = NSLock()
        var digests: [String?] = []
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let sink = MeasuringSink()
            let response = try? client.send(HTTPRequest(method: "GET", url: url("/download?size=\(size)")), sink: sink)
            try? sink.finish()
            lock.lock()
            digests.append(response?.status == 200 ? sink.digest.hexDigest : nil)
            lock.unlock()
        }
        XCTAssertEqual(digests, Array(repeating: expected, count: 6))
    }
}
