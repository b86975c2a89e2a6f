import FairHTTPServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import XCTest

/// A server that stops while clients connect must close those connections, not stop the process
/// (NIO's "Deinited NIOAsyncWriter without calling finish()"; see `AcceptedConnection`).
final class AcceptRaceTests: XCTestCase {
    private var quiet: Logger {
        var logger = Logger(label: "fair.test.accept-race")
        logger.logLevel = .critical
        return logger
    }

    private func serve(_ builder: HTTPServerBuilder) -> (ServiceGroup, Task<Void, Error>, BoundPort) {
        let bound = BoundPort()
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "served"))) },
            server: builder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.set(channel.localAddress?.port ?? 0) },
            logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        let task = Task { try await group.run() }
        return (group, task, bound)
    }

    func testItServesAsHTTP1Does() async throws {
        let (group, task, bound) = serve(.acceptSafeHTTP1())
        let port = try XCTUnwrap(bound.wait(timeout: 10))
        let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/")!)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "served")
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// `FAIR_ACCEPT_RACE_PLAIN_HTTP1=1` runs the rounds on Hummingbird's own `.http1()`, to see
    /// the crash this guards against (it takes fewer than 100 rounds on a 2-core machine).
    private static var builderUnderTest: HTTPServerBuilder {
        ProcessInfo.processInfo.environment["FAIR_ACCEPT_RACE_PLAIN_HTTP1"] == "1" ? .http1() : .acceptSafeHTTP1()
    }

    /// Each round stops a server in the middle of a flood of connections, by graceful shutdown
    /// and by cancellation. 
    func testStoppingWhileClientsConnectKeepsTheProcessUp() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["FAIR_ACCEPT_RACE_ROUNDS"] ?? "") ?? 100
        var connectionsDuringStops = 0
        for round in 0..<rounds {
            let (group, task, bound) = serve(Self.builderUnderTest)
            let port = try XCTUnwrap(bound.wait(timeout: 10), "round \(round): the server did not start")
            let flood = ConnectionFlood(port: port)
            flood.start(threads: 4)
            try await Task.sleep(for: .milliseconds(3 + round % 7))
            let before = flood.connections
            if round % 2 == 0 {
                await group.triggerGracefulShutdown()
            } else {
                task.cancel()
            }
            let started = Date()
            _ = try? await task.value
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "round \(round): the stop took too long")
            flood.stop()
            connectionsDuringStops += flood.connections - before
        }
        // The flood really reached the servers while they stopped.
        XCTAssertGreaterThan(connectionsDuringStops, rounds)
    }
}

/// The port a server bound, handed from its start callback to the test.
final class BoundPort: @unchecked Sendable {
    private let condition = NSCondition()
    private var port: Int?

    func set(_ value: Int) {
        condition.lock(); port = value; condition.broadcast(); condition.unlock()
    }

    func wait(timeout: TimeInterval) -> Int? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        while port == nil, condition.wait(until: deadline) {}
        return port
    }
}
