import FairHTTP
import FairKube
@testable import FairServing
import Foundation
import XCTest

/// The proxy end to end: a real Hummingbird server in front, real NIO servers behind, libcurl as
/// the client.
final class ServiceProxyTests: XCTestCase {
    private var proxy: ProxyUnderTest!
    private var backends: [TestBackend] = []

    override func setUp() async throws {
        proxy = try await ProxyUnderTest.start()
    }

    override func tearDown() async throws {
        for backend in backends { await backend.stop() }
        backends = []
        await proxy?.stop()
    }

    private func backend(_ name: String, host: String = "127.0.0.1", options: TestBackend.Options = .init()) async throws -> TestBackend {
        let backend = try await TestBackend.start(name: name, host: host, options: options)
        backends.append(backend)
        return backend
    }

    private func error(of reply: Client.Reply) -> String? { reply.json?["error"]?.stringValue }

    func testRequestsAlternateBetweenReadyEndpoints() async throws {
        let a = try await backend("a", host: "127.0.0.1"), b = try await backend("b", host: "127.0.0.2")
        let unready = try await backend("unready", host: "127.0.0.3")
        proxy.route("model", to: [a, b], notReady: [unready])
        var names: [String] = []
        for _ in 0..<6 {
            let reply = try await Client.send(proxy.url("/serving/default/model/who"))
            XCTAssertEqual(reply.status, 200)
            names.append(reply.text)
        }
        XCTAssertEqual(names.filter { $0 == "a" }.count, 3, "\(names)")
        XCTAssertEqual(names.filter { $0 == "b" }.count, 3, "\(names)")
        for index in 1..<names.count { XCTAssertNotEqual(names[index], names[index - 1], "\(names)") }
        XCTAssertEqual(unready.statistics.withLockedValue { $0.requests }, 0)
    }

    func testKeepAliveConnectionsAreReused() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        for _ in 0..<20 {
            let reply = try await Client.send(proxy.url("/serving/default/model/who"))
            XCTAssertEqual(reply.status, 200)
        }
        XCTAssertEqual(a.statistics.withLockedValue { $0.connections }, 1)
        XCTAssertEqual(proxy.proxy.idleConnections, 1)
    }

    func testPathQueryMethodBodyAndForwardingHeadersReachThePod() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        let reply = try await Client.send(
            proxy.url("/serving/default/model/echo/v1/models/m%20x:predict?a=1&b=%2F"), method: "POST",
            headers: [("Content-Type", "application/json"), ("X-Custom", "kept"), ("X-Forwarded-For", "10.1.2.3"),
                      ("Connection", "keep-alive, X-Private"), ("X-Private", "connection-only"), ("Keep-Alive", "timeout=9"),
                      ("Proxy-Authorization", "Basic Zm9v"), ("Authorization", "Bearer for-the-pod")],
            body: .bytes(Array(#"{"instances": [[1, 2]]}"#.utf8)))
        XCTAssertEqual(reply.status, 200, reply.text)
        let echo = try XCTUnwrap(reply.json)
        XCTAssertEqual(echo["method"]?.stringValue, "POST")
        XCTAssertEqual(echo["target"]?.stringValue, "/echo/v1/models/m%20x:predict?a=1&b=%2F")
        XCTAssertEqual(echo["body"]?.stringValue, #"{"instances": [[1, 2]]}"#)
        var headers: [String: [String]] = [:]
        for pair in echo["headers"]?.arrayValue ?? [] {
            headers[pair.arrayValue![0].stringValue!.lowercased(), default: []].append(pair.arrayValue![1].stringValue!)
        }
        XCTAssertEqual(headers["x-custom"], ["kept"])
        XCTAssertEqual(headers["authorization"], ["Bearer for-the-pod"], "the serving port passes the client's own credentials on")
        XCTAssertEqual(headers["host"], [a.address])
        XCTAssertEqual(headers["x-forwarded-for"], ["10.1.2.3, 127.0.0.1"])
        XCTAssertEqual(headers["x-forwarded-host"], ["127.0.0.1:\(proxy.servingPort)"])
        XCTAssertEqual(headers["x-forwarded-proto"], ["http"])
        XCTAssertEqual(headers["content-length"], ["23"])
        for hopByHop in ["connection", "keep-alive", "x-private", "proxy-authorization", "transfer-encoding"] {
            XCTAssertNil(headers[hopByHop], "\(hopByHop) crossed the proxy")
        }
    }

    func testHopByHopResponseHeadersStayBehind() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        let reply = try await Client.send(proxy.url("/serving/default/model/hop"))
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.headers["X-Kept"], "yes")
        XCTAssertEqual(reply.headers["X-Backend"], "a")
        XCTAssertNil(reply.headers["X-Secret"], "named by the pod's Connection header: hop-by-hop")
        XCTAssertNil(reply.headers["Keep-Alive"])
        XCTAssertNil(reply.headers["Proxy-Authenticate"])
        XCTAssertEqual(reply.text, "hop")
    }

    func testResponseBodyStreamsAsThePodSendsIt() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        // The pod holds back its second half until the client has the first: a proxy that
        // waited for the whole body would leave it waiting, and the pod would say "late".
        let sink = CollectingSink { a.gate.open() }
        let reply = try await Client.send(proxy.url("/serving/default/model/stream"), sink: sink)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(sink.text, "first\nsecond\n")
    }

    func testLargeBodiesStreamBothWays() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        for size in [100_000, 3 << 20] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            var checksum: UInt32 = 0
            for byte in bytes { checksum = checksum &* 31 &+ UInt32(byte) }
            let reply = try await Client.send(proxy.url("/serving/default/model/upload"), method: "PUT", body: .bytes(bytes))
            XCTAssertEqual(reply.text, "\(size) \(checksum)", "a \(size)-byte upload")
        }
        let download = try await Client.send(proxy.url("/serving/default/model/big?n=5000000"))
        XCTAssertEqual(download.body.count, 5_000_000)
        XCTAssertEqual(download.headers["Content-Length"], "5000000")
    }

    func testHeadAndNoContentResponses() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        let head = try await Client.send(proxy.url("/serving/default/model/who"), method: "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["Content-Length"], "1")
        XCTAssertEqual(head.body, [])
        let noContent = try await Client.send(proxy.url("/serving/default/model/no-content"))
        XCTAssertEqual(noContent.status, 204)
        // The connection is still good for the next request.
        let next = try await Client.send(proxy.url("/serving/default/model/who"))
        XCTAssertEqual(next.text, "a")
    }

    func testRefusedBackendIsRetriedElsewhereAndPassedOver() async throws {
        let a = try await backend("a")
        let deadPort = try await TestBackend.closedPort(host: "127.0.0.4")
        proxy.route("model", to: [a], extra: [("127.0.0.4", deadPort)])
        for _ in 0..<10 {
            let reply = try await Client.send(proxy.url("/serving/default/model/who"))
            XCTAssertEqual(reply.status, 200)
            XCTAssertEqual(reply.text, "a")
        }
        let dead = try Backend(ip: "127.0.0.4", port: deadPort)
        XCTAssertFalse(proxy.proxy.health.isAvailable(dead), "a refusing backend is marked unavailable")
    }

    func testKeepAliveConnectionClosedByThePodBetweenRequests() async throws {
        // The pod closes each connection moments after answering, without announcing it.
        let a = try await backend("a", options: .init(closeAfterResponse: true))
        proxy.route("model", to: [a])
        for _ in 0..<5 {
            let reply = try await Client.send(proxy.url("/serving/default/model/who"))
            XCTAssertEqual(reply.status, 200)
            try await Task.sleep(nanoseconds: 60_000_000)
        }
        XCTAssertEqual(a.statistics.withLockedValue { $0.connections }, 5)
    }

    func testPooledConnectionClosedUnansweredIsRetriedOnAFreshOne() async throws {
        // The race a keep-alive timeout creates: the pod closes the connection just as the next
        // request goes out on it. Nothing was answered, so the request is sent again.
        let a = try await backend("a")
        proxy.route("model", to: [a])
        let first = try await Client.send(proxy.url("/serving/default/model/unanswered-on-reuse"))
        XCTAssertEqual(first.status, 200)
        let second = try await Client.send(proxy.url("/serving/default/model/unanswered-on-reuse"))
        XCTAssertEqual(second.status, 200, second.text)
        XCTAssertEqual(a.statistics.withLockedValue { $0.unanswered }, 1)
        XCTAssertEqual(a.statistics.withLockedValue { $0.connections }, 2)
        let dead = try Backend(ip: a.host, port: a.port)
        XCTAssertTrue(proxy.proxy.health.isAvailable(dead), "a pooled connection closing says nothing about the pod")
    }

    func testErrorsSayWhatIsWrong() async throws {
        let missing = try await Client.send(proxy.url("/serving/default/nothing/x"))
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(error(of: missing), "no service default/nothing")

        let starting = try await backend("starting")
        proxy.route("starting", to: [], notReady: [starting])
        let unready = try await Client.send(proxy.url("/serving/default/starting/who"))
        XCTAssertEqual(unready.status, 503)
        XCTAssertEqual(unready.headers["Retry-After"], "1")
        XCTAssertEqual(error(of: unready), "service default/starting has no ready endpoints")

        let a = try await backend("a")
        proxy.route("model", to: [a])
        let noPort = try await Client.send(proxy.url("/serving/default/model:grpc/x"))
        XCTAssertEqual(noPort.status, 404)
        XCTAssertEqual(error(of: noPort), "service default/model has no port grpc (its ports: http (80))")

        let notServing = try await Client.send(proxy.url("/v2/models"))
        XCTAssertEqual(notServing.status, 404)
        XCTAssertTrue(error(of: notServing)?.contains("/serving/{namespace}/{service}") == true)

        let garbage = try await Client.send(proxy.url("/serving/default/model/half-head"))
        XCTAssertEqual(garbage.status, 502)
        XCTAssertTrue(error(of: garbage)?.hasPrefix("service default/model: \(a.address) sent an invalid HTTP response") == true,
                      error(of: garbage) ?? garbage.text)

        let deadPort = try await TestBackend.closedPort()
        proxy.route("dead", to: [], extra: [("127.0.0.1", deadPort)])
        let refused = try await Client.send(proxy.url("/serving/default/dead/who"))
        XCTAssertEqual(refused.status, 502)
        XCTAssertTrue(error(of: refused)?.contains("cannot connect to 127.0.0.1:\(deadPort)") == true, refused.text)
    }

    func testPodFailingMidResponseCutsTheClientResponse() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        do {
            let reply = try await Client.send(proxy.url("/serving/default/model/truncated"))
            XCTFail("a truncated response passed as complete: \(reply.status) \(reply.text)")
        } catch {
            // The client sees the response end early, as it would from the pod itself.
        }
        let next = try await Client.send(proxy.url("/serving/default/model/who"))
        XCTAssertEqual(next.text, "a")
    }

    func testKubernetesServiceProxyPathNeedsTheTokenAndKeepsIt() async throws {
        let a = try await backend("a")
        proxy.route("model", to: [a])
        let anonymous = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/services/model/proxy/who"))
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.json?["reason"]?.stringValue, "Unauthorized")

        let authorized = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/services/model:http/proxy/echo?x=1"),
                                               headers: [("Authorization", "Bearer \(ProxyUnderTest.token)")])
        XCTAssertEqual(authorized.status, 200)
        XCTAssertEqual(authorized.json?["target"]?.stringValue, "/echo?x=1")
        let forwarded = a.statistics.withLockedValue { $0.lastHeaders }.map { $0.0.lowercased() }
        XCTAssertFalse(forwarded.contains("authorization"), "the API token reached a pod")

        let other = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/services/model"),
                                          headers: [("Authorization", "Bearer \(ProxyUnderTest.token)")])
        XCTAssertEqual(other.status, 418, "other API paths are the API server's")
    }
}
