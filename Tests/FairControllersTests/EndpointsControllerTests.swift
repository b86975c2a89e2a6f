import FairKube
import Foundation
import XCTest

final class EndpointsControllerTests: ControllerTestCase {
    private func createPod(_ name: String, app: String = "model", port: Int64 = 8080) throws -> JSONValue {
        try client.create(.pods, ["metadata": ["name": .string(name), "labels": ["app": .string(app)]],
                                  "spec": ["nodeName": "node-1",
                                           "containers": [Self.container(ports: [["name": "http", "containerPort": .int(port)]])]]])
    }

    private func addresses(_ field: String) throws -> [String] {
        let endpoints = try client.get(.endpoints, name: "model")
        return (endpoints["subsets"]?.arrayValue ?? []).flatMap { $0[field]?.arrayValue ?? [] }
            .compactMap { $0.value(at: "targetRef.name")?.stringValue }.sorted()
    }

    func testEndpointsFollowPodReadiness() throws {
        startControllers()
        let ready = try createPod("ready")
        let starting = try createPod("starting")
        _ = try createPod("unscheduled-ip")  // no IP yet: not an endpoint at all
        _ = try createPod("elsewhere", app: "other")
        try markRunning(ready)
        try markRunning(starting, ready: false)
        _ = try client.create(.services, ["metadata": ["name": "model", "labels": ["team": "ml"]],
                                          "spec": ["selector": ["app": "model"],
                                                   "ports": [["name": "web", "port": 80, "targetPort": "http"]]]])

        try waitUntil("endpoints of the ready and the starting pod") {
            try addresses("addresses") == ["ready"] && addresses("notReadyAddresses") == ["starting"]
        }
        let endpoints = try client.get(.endpoints, name: "model")
        let subset = try XCTUnwrap(endpoints["subsets"]?.arrayValue?.first)
        XCTAssertEqual(subset["ports"], [["name": "web", "port": 8080, "protocol": "TCP"]])
        let address = try XCTUnwrap(subset["addresses"]?.arrayValue?.first)
        XCTAssertEqual(address["nodeName"], "node-1")
        XCTAssertEqual(address.value(at: "targetRef.kind"), "Pod")
        XCTAssertEqual(address.value(at: "targetRef.uid")?.stringValue, ready.uid)
        XCTAssertNotNil(address["ip"]?.stringValue)
        XCTAssertEqual(endpoints.labels["team"], "ml")

        // A status change that moves no address writes nothing.
        let version = endpoints.resourceVersion
        _ = try client.mergePatch(.pods, name: "ready", ["status": ["containerStatuses": [["name": "main", "restartCount": 0]]]],
                                  subresource: "status")
        try stays("the endpoints unchanged", for: 0.4) { try client.get(.endpoints, name: "model").resourceVersion == version }

        try markRunning(try client.get(.pods, name: "starting"))
        try waitUntil("both ready") { try addresses("addresses") == ["ready", "starting"] }
        XCTAssertEqual(try addresses("notReadyAddresses"), [])

        try client.delete(.pods, name: "ready", gracePeriodSeconds: 0)
        try waitUntil("the deleted pod gone") { try addresses("addresses") == ["starting"] }

        try client.delete(.services, name: "model")
        try eventually("the endpoints deleted with the service") { () -> Bool? in
            do {
                _ = try client.get(.endpoints, name: "model")
                return nil
            } catch let error as KubeError where error.isNotFound {
                return true
            }
        }
    }
}
