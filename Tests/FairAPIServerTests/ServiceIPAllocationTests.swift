import FairKube
import FairServer
import Foundation
import XCTest
@testable import FairAPIServer

/// Cluster IPs through the API server's handlers: allocated from the range when none is asked
/// for, kept when a free one in the range is, refused otherwise with kube's messages, kept for
/// life on update; headless and ExternalName Services get none.
final class ServiceIPAllocationTests: XCTestCase {
    private var directory: String!
    private var admin: KubeClient!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "service-ips-\(UUID().uuidString)"
        let api = try APIServer(dataDirectory: directory, token: "admin-token", serviceIPRange: try ServiceIPRange(cidr: "127.96.0.0/29"))
        admin = KubeClient(config: Kubeconfig(server: "https://in-process", token: "admin-token"), transport: InProcessTransport(api: api))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func service(_ name: String, clusterIP: String? = nil, type: String? = nil) throws -> JSONValue {
        var spec: [String: JSONValue] = ["ports": [["port": 80]], "selector": ["app": .string(name)]]
        if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
        if let type { spec["type"] = .string(type) }
        if type == "ExternalName" { spec["externalName"] = "example.com" }
        return try admin.create(.services, namespace: "default", ["metadata": ["name": .string(name)], "spec": .object(spec)])
    }

    private func refusal(_ work: () throws -> Any) -> String? {
        do {
            _ = try work()
            return nil
        } catch {
            return (error as? KubeError)?.message ?? "\(error)"
        }
    }

    func testAddressesComeFromTheRangeOnceEach() throws {
        let first = try service("a")
        XCTAssertEqual(first.value(at: "spec.clusterIP")?.stringValue, "127.96.0.1")
        XCTAssertEqual(first.value(at: "spec.clusterIPs"), ["127.96.0.1"])
        XCTAssertEqual(first.value(at: "spec.ipFamilies"), ["IPv4"])
        XCTAssertEqual(first.value(at: "spec.ipFamilyPolicy")?.stringValue, "SingleStack")
        XCTAssertEqual(try service("b", clusterIP: "127.96.0.5").value(at: "spec.clusterIP")?.stringValue, "127.96.0.5")
        XCTAssertEqual(try service("c").value(at: "spec.clusterIP")?.stringValue, "127.96.0.2")
        XCTAssertEqual(refusal { try service("d", clusterIP: "127.96.0.5") },
                       #"Service "d" is invalid: spec.clusterIPs: Invalid value: []string{"127.96.0.5"}: failed to allocate IP 127.96.0.5: provided IP is already allocated"#)
        XCTAssertEqual(refusal { try service("e", clusterIP: "127.97.0.1") },
                       #"Service "e" is invalid: spec.clusterIPs: Invalid value: []string{"127.97.0.1"}: failed to allocate IP 127.97.0.1: provided IP is not in the valid range. The range of valid IPs is 127.96.0.0/29"#)
        // A deleted Service's address is free again.
        _ = try admin.delete(.services, namespace: "default", name: "a")
        XCTAssertEqual(try service("f").value(at: "spec.clusterIP")?.stringValue, "127.96.0.1")
        for name in ["g", "h", "i"] { _ = try service(name) }
        XCTAssertEqual(refusal { try service("full") }, "Internal error occurred: failed to allocate a serviceIP: range is full")
    }

    func testHeadlessAndExternalNameServicesHaveNoAddress() throws {
        let headless = try service("workers", clusterIP: "None")
        XCTAssertEqual(headless.value(at: "spec.clusterIP")?.stringValue, "None")
        XCTAssertEqual(headless.value(at: "spec.clusterIPs"), ["None"])
        let external = try service("outside", type: "ExternalName")
        XCTAssertNil(external.value(at: "spec.clusterIP"))
    }

    func testTheAddressStaysForLife() throws {
        var stored = try service("web")
        stored.set(nil, at: "spec.clusterIP")
        stored.set(nil, at: "spec.clusterIPs")
        stored.set([["port": 8080]], at: "spec.ports")
        let updated = try admin.update(.services, stored)
        XCTAssertEqual(updated.value(at: "spec.clusterIP")?.stringValue, "127.96.0.1")
        var moved = updated
        moved.set("127.96.0.3", at: "spec.clusterIP")
        XCTAssertNotNil(refusal { try admin.update(.services, moved) })
        let patched = try admin.mergePatch(.services, namespace: "default", name: "web", ["spec": ["ports": [["port": 9090]]]])
        XCTAssertEqual(patched.value(at: "spec.clusterIP")?.stringValue, "127.96.0.1")
    }

    func testRangesMustBeLoopbackNetworks() {
        XCTAssertThrowsError(try ServiceIPRange(cidr: "10.96.0.0/12"))
        XCTAssertThrowsError(try ServiceIPRange(cidr: "127.96.0.1/16"))
        XCTAssertThrowsError(try ServiceIPRange(cidr: "127.96.0.0"))
        XCTAssertEqual(try ServiceIPRange(cidr: "127.96.0.0/16").description, "127.96.0.0/16")
    }

    /// Addresses no one asked for come from above the static band (the first 1/16, 16 to 256),
    /// so the cluster DNS's tenth address is never given to another Service.
    func testDynamicAddressesComeFromAboveTheStaticBand() throws {
        let range = try ServiceIPRange(cidr: "127.96.0.0/16")
        XCTAssertEqual(range.staticBand, 256)
        XCTAssertEqual(range.clusterDNSAddress, "127.96.0.10")
        XCTAssertEqual(try ServiceIPRange(cidr: "127.96.16.0/20").staticBand, 255)
        XCTAssertEqual(try ServiceIPRange(cidr: "127.96.0.0/24").staticBand, 16)
        XCTAssertTrue(try ServiceIPRange(cidr: "127.20.0.0/16").overlaps(try ServiceIPRange(cidr: "127.20.16.0/20")))
        XCTAssertFalse(try ServiceIPRange(cidr: "127.20.0.0/16").overlaps(try ServiceIPRange(cidr: "127.21.0.0/20")))
    }
}
