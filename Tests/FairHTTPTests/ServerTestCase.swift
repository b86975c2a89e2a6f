import Foundation
import XCTest

@testable import FairHTTP

/// A test case with a fresh test_server.py and a fresh client for every test.
class ServerTestCase: XCTestCase {
    private(set) var server: TestServer!
    private var extraServers: [TestServer] = []
    var client: HTTPClient!

    override func setUpWithError() throws {
        server = try TestServer()
        client = HTTPClient()
    }

    override func tearDown() {
        server?.stop()
        for extra in extraServers { extra.stop() }
        extraServers = []
        server = nil
        client = nil
    }

    /// Another server instance (a different port, so a different origin), stopped in tearDown.
    func startSecondServer() throws -> TestServer {
        let second = try TestServer()
        extraServers.append(second)
        return second
    }

    func url(_ path: String) -> String { server.url(path) }

    func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: HTTPBody = .empty) throws -> HTTPResponse {
        try client.send(HTTPRequest(method: method, url: url(path), headers: HTTPHeaders(headers), body: body))
    }

    func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "fair-http-test-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
