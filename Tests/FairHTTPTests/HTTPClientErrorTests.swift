import Foundation
import XCTest

@testable import FairHTTP

final class HTTPClientErrorTests: ServerTestCase {
    /// A failed transfer must leave its pooled handle usable: retries go through the same pool.
    func testHandlesStayUsableAfterFailures() throws {
        let gone = try startSecondServer()
        let target = gone.url("/echo")
        gone.stop()
        for _ in 0..<3 {
            XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: target))) {
                guard let error = $0 as? HTTPError, case let .transport(_, code, _) = error else {
                    return XCTFail("unexpected error \($0)")
                }
                XCTAssertEqual(code, 7, "every attempt fails the same way, not with a poisoned handle")
            }
        }
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: "http://nonexistent.invalid/"))) {
            guard let error = $0 as? HTTPError, case let .transport(_, code, _) = error else { return XCTFail("\($0)") }
            XCTAssertEqual(code, 6)  // CURLE_COULDNT_RESOLVE_HOST
        }
        XCTAssertEqual(try client.send(HTTPRequest(method: "GET", url: server.url("/echo"))).status, 200)
    }

    func testConnectionRefusedIsRetryable() throws {
        let gone = try startSecondServer()
        let target = gone.url("/echo")
        gone.stop()
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: target))) {
            guard let error = $0 as? HTTPError, case let .transport(url, code, message) = error else {
                return XCTFail("unexpected error \($0)")
            }
            XCTAssertEqual(url, target)
            XCTAssertEqual(code, 7)  // CURLE_COULDNT_CONNECT
            XCTAssertTrue(message.contains("connect"), message)
            XCTAssertTrue(error.isRetryable)
            XCTAssertTrue(error.description.hasPrefix(target), error.description)
        }
    }

    func testServerHangingUpDuringUploadIsAnOrdinaryError() throws {
        // Writing to the reset connection must not raise SIGPIPE and end the process.
        let path = try temporaryFile([UInt8](repeating: 7, count: 16 << 20))
        for _ in 0..<3 {
            do {
                let response = try send("PUT", "/reject", body: .file(path: path))
                XCTAssertEqual(response.status, 413)
            } catch let error as HTTPError {
                guard case .transport = error else { return XCTFail("unexpected error \(error)") }
                XCTAssertTrue(error.isRetryable, "\(error)")
            }
        }
        XCTAssertEqual(try Echo(send("GET", "/echo")).method, "GET")
    }

    func testTLSFailureIsNotRetryable() throws {
        // TLS against a plain HTTP server: the handshake fails.
        let target = "https://127.0.0.1:\(server.port)/echo"
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: target))) {
            guard let error = $0 as? HTTPError, case let .transport(url, code, _) = error else {
                return XCTFail("unexpected error \($0)")
            }
            XCTAssertEqual(url, target)
            XCTAssertEqual(code, 35)  // CURLE_SSL_CONNECT_ERROR
            XCTAssertFalse(error.isRetryable)
        }
    }

    func testStalledTransferTimesOut() throws {
        var configuration = HTTPClient.Configuration()
        configuration.stallTimeout = 1
        let client = HTTPClient(configuration: configuration)
        let start = Date()
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: url("/stall")))) {
            guard let error = $0 as? HTTPError, case let .transport(_, code, _) = error else {
                return XCTFail("unexpected error \($0)")
            }
            XCTAssertEqual(code, 28)  // CURLE_OPERATION_TIMEDOUT
            XCTAssertTrue(error.isRetryable)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testInvalidURLs() {
        for bad in ["not a url", "ftp://127.0.0.1/x", "http://", "/v2/relative"] {
            XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: bad)), bad) {
                XCTAssertEqual($0 as? HTTPError, .invalidURL(bad))
            }
        }
    }

    func testUnknownHostIsRetryable() {
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: "http://fair-test.invalid/"))) {
            guard let error = $0 as? HTTPError, case let .transport(_, code, _) = error else {
                return XCTFail("unexpected error \($0)")
            }
            XCTAssertEqual(code, 6)  // CURLE_COULDNT_RESOLVE_HOST
            XCTAssertTrue(error.isRetryable)
        }
    }
}
