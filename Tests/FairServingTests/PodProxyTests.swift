import FairHTTP
import FairKube
@testable import FairServing
import Foundation
import XCTest

/// kube-apiserver's `pods/NAME[:PORT]/proxy/PATH` on the API port: parsing, choosing the pod's
/// address and port, and requests streamed through to a pod stand-in and back.
final class PodProxyTests: XCTestCase {
    private var proxy: ProxyUnderTest!
    private var backends: [TestBackend] = []
    private let admin = [("Authorization", "Bearer \(ProxyUnderTest.token)")]

    override func setUp() async throws {
        proxy = try await ProxyUnderTest.start()
    }

    override func tearDown() async throws {
        for backend in backends { await backend.stop() }
        backends = []
        await proxy?.stop()
    }

    private func backend(_ name: String, host: String = "127.0.0.1") async throws -> TestBackend {
        let backend = try await TestBackend.start(name: name, host: host)
        backends.append(backend)
        return backend
    }

    func testPathsParseAsKubeApiserverSplitsThem() throws {
        XCTAssertEqual(try PodProxyTarget.kubernetes("/api/v1/namespaces/ml/pods/web/proxy/files/a%20b?x=1"),
                       PodProxyTarget(namespace: "ml", pod: "web", port: nil, forwardedTarget: "/files/a%20b?x=1"))
        XCTAssertEqual(try PodProxyTarget.kubernetes("/api/v1/namespaces/ml/pods/web:8470/proxy"),
                       PodProxyTarget(namespace: "ml", pod: "web", port: "8470", forwardedTarget: "/"))
        XCTAssertEqual(try PodProxyTarget.kubernetes("/api/v1/namespaces/ml/pods/http:web:http/proxy/"),
                       PodProxyTarget(namespace: "ml", pod: "web", port: "http", forwardedTarget: "/"))
        XCTAssertEqual(try PodProxyTarget.kubernetes("/api/v1/namespaces/ml/pods/web%3A8470/proxy/manifest"),
                       PodProxyTarget(namespace: "ml", pod: "web", port: "8470", forwardedTarget: "/manifest"))
        XCTAssertThrowsError(try PodProxyTarget.kubernetes("/api/v1/namespaces/ml/pods/https:web:443/proxy/")) {
            XCTAssertEqual($0 as? ProxyError, .unsupportedScheme("https"))
        }
        for path in ["/api/v1/namespaces/ml/pods/web", "/api/v1/namespaces/ml/pods/web/log", "/api/v1/namespaces/ml/pods/web/proxyx",
                     "/api/v1/namespaces/ml/services/web/proxy/", "/api/v1/namespaces/ml/pods", "/api/v1/namespaces/ml/pods/:80/proxy"] {
            XCTAssertNil(try PodProxyTarget.kubernetes(path), path)
        }
        // And the other way round: the service proxy leaves pods alone.
        XCTAssertNil(try ProxyTarget.kubernetes("/api/v1/namespaces/ml/pods/web/proxy/"))
    }

    func testThePortIsTheOneAskedForElseTheFirstDeclaredElse80() throws {
        func pod(_ ports: [(String, Int)], ip: String? = "127.0.0.9") -> JSONValue {
            var object: JSONValue = ["spec": ["containers": [["name": "a", "ports": .array(ports.map { ["name": .string($0.0), "containerPort": .int(Int64($0.1))] })]]],
                                     "status": ["phase": "Running"]]
            if let ip { object["status"]?["podIP"] = .string(ip) }
            return object
        }
        let target = { (port: Substring?) in PodProxyTarget(namespace: "ml", pod: "web", port: port, forwardedTarget: "/") }
        XCTAssertEqual(try target(nil).backend(in: pod([("http", 8470), ("metrics", 9090)])).hostAndPort, "127.0.0.9:8470")
        XCTAssertEqual(try target(nil).backend(in: pod([])).hostAndPort, "127.0.0.9:80")
        XCTAssertEqual(try target("9090").backend(in: pod([("http", 8470)])).hostAndPort, "127.0.0.9:9090")
        XCTAssertEqual(try target("metrics").backend(in: pod([("http", 8470), ("metrics", 9090)])).hostAndPort, "127.0.0.9:9090")
        XCTAssertThrowsError(try target("grpc").backend(in: pod([("http", 8470)]))) {
            XCTAssertEqual($0 as? ProxyError, .noSuchPodPort(namespace: "ml", name: "web", port: "grpc"))
        }
        XCTAssertThrowsError(try target("70000").backend(in: pod([]))) {
            XCTAssertEqual($0 as? ProxyError, .noSuchPodPort(namespace: "ml", name: "web", port: "70000"))
        }
        XCTAssertThrowsError(try target(nil).backend(in: pod([], ip: nil))) {
            XCTAssertEqual($0 as? ProxyError, .podWithoutAddress(namespace: "ml", name: "web", phase: "Running"))
        }
        XCTAssertThrowsError(try target(nil).backend(in: nil)) {
            XCTAssertEqual($0 as? ProxyError, .podNotFound(namespace: "ml", name: "web"))
        }
    }

    func testRequestsReachThePodWithoutTheTokenAndBodiesStreamBothWays() async throws {
        let a = try await backend("a", host: "127.0.0.2")
        proxy.pod("web", at: a, ports: [("http", a.port)])
        let reply = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/pods/web/proxy/echo/a%20b?x=%2F"), method: "POST",
                                          headers: admin + [("X-Custom", "kept")], body: .bytes(Array("hello".utf8)))
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(reply.json?["target"]?.stringValue, "/echo/a%20b?x=%2F")
        XCTAssertEqual(reply.json?["body"]?.stringValue, "hello")
        let forwarded = a.statistics.withLockedValue { $0.lastHeaders }
        XCTAssertFalse(forwarded.contains { $0.0.lowercased() == "authorization" }, "the API token reached a pod")
        XCTAssertTrue(forwarded.contains { $0.0.lowercased() == "x-custom" && $0.1 == "kept" })

        // Larger than what the proxy would hold to send again: it streams.
        let size = 6 << 20
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var checksum: UInt32 = 0
        for byte in bytes { checksum = checksum &* 31 &+ UInt32(byte) }
        let upload = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/pods/web:\(a.port)/proxy/upload"), method: "PUT",
                                           headers: admin, body: .bytes(bytes))
        XCTAssertEqual(upload.text, "\(size) \(checksum)")
        let download = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/pods/web/proxy/big?n=9000000"), headers: admin)
        XCTAssertEqual(download.body.count, 9_000_000)
    }

    func testRefusalsAndMissingPodsAnswerAsKubeApiserverDoes() async throws {
        let refused = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/pods/web/proxy/who"),
                                            headers: [("Authorization", "Bearer someone-else")])
        XCTAssertEqual(refused.status, 403, "the API server decides before the pod is even looked up")

        let missing = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/pods/nothing/proxy/who"), headers: admin)
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.json?["kind"]?.stringValue, "Status")
        XCTAssertEqual(missing.json?["message"]?.stringValue, "pods \"nothing\" not found")

        proxy.pod("pending", at: nil)
        let pending = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/pods/pending/proxy/who"), headers: admin)
        XCTAssertEqual(pending.status, 503)
        XCTAssertEqual(pending.json?["reason"]?.stringValue, "ServiceUnavailable")

        // Running, but nothing listens on the port.
        let gone = try await backend("gone", host: "127.0.0.3")
        proxy.pod("deaf", at: gone, ports: [("http", gone.port)])
        await gone.stop()
        backends.removeAll { $0 === gone }
        let deaf = try await Client.send(proxy.apiURL("/api/v1/namespaces/default/pods/deaf/proxy/who"), headers: admin)
        XCTAssertEqual(deaf.status, 503)
        XCTAssertTrue(deaf.json?["message"]?.stringValue?.hasPrefix("error trying to reach service:") == true, deaf.text)
    }
}
