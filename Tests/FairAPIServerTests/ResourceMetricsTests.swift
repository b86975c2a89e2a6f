@testable import FairAPIServer
import FairKube
import XCTest

final class ResourceMetricsTests: XCTestCase {
    func testQuantitiesAreCanonicalAsApimachineryWritesThem() {
        XCTAssertEqual(MetricsQuantity.cpu(nanoCores: 0), "0")
        XCTAssertEqual(MetricsQuantity.cpu(nanoCores: 1_234_567), "1234567n")
        XCTAssertEqual(MetricsQuantity.cpu(nanoCores: 5_000_000), "5m")
        XCTAssertEqual(MetricsQuantity.cpu(nanoCores: 2_000_000_000), "2")
        XCTAssertEqual(MetricsQuantity.cpu(nanoCores: 7_000), "7u")
        XCTAssertEqual(MetricsQuantity.memory(bytes: 0), "0")
        XCTAssertEqual(MetricsQuantity.memory(bytes: 1000), "1000")
        XCTAssertEqual(MetricsQuantity.memory(bytes: 4096), "4Ki")
        XCTAssertEqual(MetricsQuantity.memory(bytes: 100 << 20), "100Mi")
        XCTAssertEqual(MetricsQuantity.memory(bytes: (100 << 20) + 1), "104857601")
    }

    private func entry(_ name: String, cpu: Int64, memory: Int64, time: String) -> JSONValue {
        ["name": .string(name), "cpu": ["time": .string(time), "usageNanoCores": .int(cpu), "window": "5s"],
         "memory": ["time": .string(time), "workingSetBytes": .int(memory)]]
    }

    func testAPodIsListedOnlyWhenEachRunningContainerHasUsage() throws {
        let pod: JSONValue = [
            "metadata": ["name": "web", "namespace": "ml", "labels": ["app": "web"]],
            "status": ["containerStatuses": [["name": "a", "state": ["running": [:]]], ["name": "b", "state": ["running": [:]]]]],
        ]
        let one: JSONValue = ["containers": [entry("a", cpu: 5_000_000, memory: 4096, time: "2026-01-01T00:00:10Z")]]
        XCTAssertNil(ResourceMetrics.podMetrics(pod, usage: one), "b runs but has no reading yet")
        let both: JSONValue = ["containers": [entry("a", cpu: 5_000_000, memory: 4096, time: "2026-01-01T00:00:10Z"),
                                              entry("b", cpu: 0, memory: 1 << 20, time: "2026-01-01T00:00:05Z")]]
        let metrics = try XCTUnwrap(ResourceMetrics.podMetrics(pod, usage: both))
        XCTAssertEqual(metrics["kind"]?.stringValue, "PodMetrics")
        XCTAssertEqual(metrics.value(at: "metadata.labels.app")?.stringValue, "web")
        XCTAssertEqual(metrics["timestamp"]?.stringValue, "2026-01-01T00:00:05Z", "the earliest container's reading")
        XCTAssertEqual(metrics["containers"]?.arrayValue?.map { $0.value(at: "usage.cpu")?.stringValue }, ["5m", "0"])
        XCTAssertEqual(metrics["containers"]?.arrayValue?.map { $0.value(at: "usage.memory")?.stringValue }, ["4Ki", "1Mi"])
    }

    func testMetricsKindsAreReadOnlyAndInDiscovery() {
        XCTAssertEqual(KindDefinition.podMetrics.verbs, ["get", "list"])
        XCTAssertFalse(KindDefinition.nodeMetrics.stored)
        XCTAssertEqual(Discovery.group("metrics.k8s.io").value(at: "preferredVersion.version")?.stringValue, "v1beta1")
        XCTAssertEqual(Discovery.group("apps").value(at: "preferredVersion.version")?.stringValue, "v1")
    }
}
