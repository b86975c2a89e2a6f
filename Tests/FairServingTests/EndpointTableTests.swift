import FairKube
@testable import FairServing
import Foundation
import NIOCore
import XCTest

final class EndpointTableTests: XCTestCase {
    private func picks(_ port: RoutePort, _ count: Int, health: BackendHealth = BackendHealth()) -> [String] {
        (0..<count).compactMap { _ in port.picker.pick(from: port.backends, excluding: [], health: health)?.ip }
    }

    func testRoundRobinOverReadyEndpointsOnly() throws {
        let table = EndpointTable()
        table.update(namespace: "default", name: "model", service: Objects.service("model"),
                     endpoints: Objects.endpoints("model", ready: [("127.20.0.1", 8080), ("127.20.0.2", 8080), ("127.20.0.3", 8080)],
                                                  notReady: [("127.20.0.9", 8080)]))
        let port = try XCTUnwrap(table.route(namespace: "default", name: "model")?.port(nil))
        XCTAssertEqual(port.backends.map(\.hostAndPort), ["127.20.0.1:8080", "127.20.0.2:8080", "127.20.0.3:8080"])
        let chosen = picks(port, 9)
        XCTAssertFalse(chosen.contains("127.20.0.9"), "a not-ready endpoint was picked")
        // In turn: each of the three once in every three picks.
        for start in stride(from: 0, to: 9, by: 3) {
            XCTAssertEqual(Set(chosen[start..<start + 3]), ["127.20.0.1", "127.20.0.2", "127.20.0.3"], "\(chosen)")
        }
        XCTAssertEqual(chosen[0], chosen[3])
    }

    func testEndpointChangesReplaceTheRoute() throws {
        let table = EndpointTable()
        let service = Objects.service("model")
        table.update(namespace: "default", name: "model", service: service,
                     endpoints: Objects.endpoints("model", ready: [("127.20.0.1", 8080)], notReady: [("127.20.0.2", 8080)]))
        XCTAssertEqual(table.route(namespace: "default", name: "model")?.port(nil)?.backends.map(\.ip), ["127.20.0.1"])

        // The second pod became ready, the first is terminating (gone from Endpoints).
        table.update(namespace: "default", name: "model", service: service,
                     endpoints: Objects.endpoints("model", ready: [("127.20.0.2", 8080)]))
        let port = try XCTUnwrap(table.route(namespace: "default", name: "model")?.port(nil))
        XCTAssertEqual(picks(port, 3), ["127.20.0.2", "127.20.0.2", "127.20.0.2"])

        // Scaled to zero: the Service is there, with nothing to route to.
        table.update(namespace: "default", name: "model", service: service, endpoints: Objects.endpoints("model", ready: []))
        XCTAssertEqual(table.route(namespace: "default", name: "model")?.port(nil)?.backends, [])
        XCTAssertEqual(table.backends(), [])

        // Endpoints not yet written: the Service exists, without endpoints.
        table.update(namespace: "default", name: "model", service: service, endpoints: nil)
        XCTAssertEqual(table.route(namespace: "default", name: "model")?.port(nil)?.backends, [])

        // Service deleted: no route, whatever Endpoints are left.
        table.update(namespace: "default", name: "model", service: nil,
                     endpoints: Objects.endpoints("model", ready: [("127.20.0.2", 8080)]))
        XCTAssertNil(table.route(namespace: "default", name: "model"))
        XCTAssertNil(table.route(namespace: "other", name: "model"))
    }

    func testPortsByNameNumberOrFirst() throws {
        let service = Objects.service("model", ports: [["name": "http", "port": 80, "targetPort": 8080],
                                                       ["name": "metrics", "port": 9090, "targetPort": "metrics"],
                                                       ["name": "dns", "port": 53, "protocol": "UDP"]])
        let endpoints: JSONValue = ["subsets": [["addresses": [["ip": "127.20.0.1"]],
                                                 "ports": [["name": "http", "port": 8080], ["name": "metrics", "port": 9100]]]]]
        let route = ServiceRoute(service: service, endpoints: endpoints)
        XCTAssertEqual(route.ports.map(\.name), ["http", "metrics"], "UDP ports cannot be proxied")
        XCTAssertEqual(route.port(nil)?.backends.map(\.hostAndPort), ["127.20.0.1:8080"])
        XCTAssertEqual(route.port("http")?.backends.map(\.hostAndPort), ["127.20.0.1:8080"])
        XCTAssertEqual(route.port("metrics")?.backends.map(\.hostAndPort), ["127.20.0.1:9100"])
        XCTAssertEqual(route.port("9090")?.name, "metrics")
        XCTAssertNil(route.port("grpc"))
        XCTAssertNil(route.port("8080"), "ports are the Service's numbers, not the pods'")
    }

    func testAnUnnamedSinglePortMatchesUnnamedEndpointPorts() {
        let service = Objects.service("model", ports: [["port": 80, "targetPort": 8080]])
        let endpoints: JSONValue = ["subsets": [["addresses": [["ip": "127.20.0.1"], ["ip": "127.20.0.2"]], "ports": [["port": 8080]]]]]
        XCTAssertEqual(ServiceRoute(service: service, endpoints: endpoints).port(nil)?.backends.count, 2)
    }

    func testRefusingBackendIsPassedOverUntilItsPenaltyEnds() throws {
        let backends = [try Backend(ip: "127.20.0.1", port: 80), try Backend(ip: "127.20.0.2", port: 80)]
        let picker = RoundRobinPicker()
        let health = BackendHealth(penalty: .milliseconds(200))
        health.markUnavailable(backends[0])
        for _ in 0..<4 { XCTAssertEqual(picker.pick(from: backends, excluding: [], health: health), backends[1]) }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(Set((0..<4).compactMap { _ in picker.pick(from: backends, excluding: [], health: health) }), Set(backends))
        // When every backend refused lately, one is still tried: better than failing outright.
        health.markUnavailable(backends[0])
        health.markUnavailable(backends[1])
        XCTAssertNotNil(picker.pick(from: backends, excluding: [], health: health))
    }

    func testTriedBackendsAreAvoidedThenReused() throws {
        let backends = [try Backend(ip: "127.20.0.1", port: 80), try Backend(ip: "127.20.0.2", port: 80)]
        let picker = RoundRobinPicker()
        let health = BackendHealth()
        for _ in 0..<4 {
            XCTAssertEqual(picker.pick(from: backends, excluding: [backends[0]], health: health), backends[1])
        }
        XCTAssertNotNil(picker.pick(from: backends, excluding: backends, health: health), "with one pod, a retry goes to it again")
        XCTAssertNil(picker.pick(from: [], excluding: [], health: health))
    }

    func testServingPaths() throws {
        XCTAssertEqual(try ProxyTarget.serving("/serving/default/model/v1/models/m:predict?x=1&y=%20"),
                       ProxyTarget(namespace: "default", service: "model", port: nil, forwardedTarget: "/v1/models/m:predict?x=1&y=%20"))
        XCTAssertEqual(try ProxyTarget.serving("/serving/ml/model:metrics/metrics"),
                       ProxyTarget(namespace: "ml", service: "model", port: "metrics", forwardedTarget: "/metrics"))
        XCTAssertEqual(try ProxyTarget.serving("/serving/ml/model"), ProxyTarget(namespace: "ml", service: "model", port: nil, forwardedTarget: "/"))
        XCTAssertEqual(try ProxyTarget.serving("/serving/ml/model?q"), ProxyTarget(namespace: "ml", service: "model", port: nil, forwardedTarget: "/?q"))
        XCTAssertEqual(try ProxyTarget.serving("/serving/ml/model:8080/"), ProxyTarget(namespace: "ml", service: "model", port: "8080", forwardedTarget: "/"))
        XCTAssertNil(try ProxyTarget.serving("/healthz"))
        XCTAssertThrowsError(try ProxyTarget.serving("/serving/ml")) { XCTAssertEqual($0 as? ProxyError, .notAServingPath) }
        XCTAssertThrowsError(try ProxyTarget.serving("/serving/ml/")) { XCTAssertEqual($0 as? ProxyError, .notAServingPath) }
        XCTAssertThrowsError(try ProxyTarget.serving("/serving//model/")) { XCTAssertEqual($0 as? ProxyError, .notAServingPath) }
    }

    func testKubernetesProxyPaths() throws {
        XCTAssertEqual(try ProxyTarget.kubernetes("/api/v1/namespaces/default/services/model/proxy/v2/health/ready?a=b"),
                       ProxyTarget(namespace: "default", service: "model", port: nil, forwardedTarget: "/v2/health/ready?a=b"))
        XCTAssertEqual(try ProxyTarget.kubernetes("/api/v1/namespaces/default/services/model:http/proxy"),
                       ProxyTarget(namespace: "default", service: "model", port: "http", forwardedTarget: "/"))
        XCTAssertEqual(try ProxyTarget.kubernetes("/api/v1/namespaces/default/services/http:model:8080/proxy/"),
                       ProxyTarget(namespace: "default", service: "model", port: "8080", forwardedTarget: "/"))
        // The Python client escapes the colon of a named port.
        XCTAssertEqual(try ProxyTarget.kubernetes("/api/v1/namespaces/default/services/logreg%3Ahttp/proxy/v2/models"),
                       ProxyTarget(namespace: "default", service: "logreg", port: "http", forwardedTarget: "/v2/models"))
        XCTAssertEqual(try ProxyTarget.kubernetes("/api/v1/namespaces/default/services/http%3Alogreg%3A8080/proxy/"),
                       ProxyTarget(namespace: "default", service: "logreg", port: "8080", forwardedTarget: "/"))
        XCTAssertEqual(try ProxyTarget.kubernetes("/api/v1/namespaces/default/services/model:/proxy/x"),
                       ProxyTarget(namespace: "default", service: "model", port: nil, forwardedTarget: "/x"))
        XCTAssertThrowsError(try ProxyTarget.kubernetes("/api/v1/namespaces/default/services/https:model:443/proxy/")) {
            XCTAssertEqual($0 as? ProxyError, .unsupportedScheme("https"))
        }
        // Everything else on the API port is the API server's.
        for path in ["/api/v1/namespaces/default/services/model", "/api/v1/namespaces/default/services",
                     "/api/v1/namespaces/default/services/model/status", "/api/v1/namespaces/default/services/model/proxyx",
                     "/api/v1/namespaces/default/pods/model/proxy/", "/apis/apps/v1/namespaces/default/deployments", "/api/v1/namespaces"] {
            XCTAssertNil(try ProxyTarget.kubernetes(path), path)
        }
    }
}
