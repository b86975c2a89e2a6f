import FairKube
import Foundation
import XCTest
@testable import FairAPIServer

final class ObjectStoreTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func testRevisionsAreGlobalAndSurviveReopening() throws {
        let store = try ObjectStore(path: "\(directory!)/db")
        let a = try store.write("pods", namespace: "default", name: "a") { _ in ["metadata": ["name": "a"]] }
        let b = try store.write("nodes", namespace: "", name: "b") { _ in ["metadata": ["name": "b"]] }
        XCTAssertEqual(a.object.resourceVersion, "1")
        XCTAssertEqual(b.object.resourceVersion, "2")
        XCTAssertEqual(a.kind, .added)
        let reopened = try ObjectStore(path: "\(directory!)/db")
        XCTAssertEqual(reopened.currentRevision, 2)
        XCTAssertEqual(reopened.get("pods", namespace: "default", name: "a")?.object.resourceVersion, "1")
        XCTAssertEqual(reopened.list("pods", namespace: nil).items.count, 1)
    }

    func testWatchReplaysFromARevisionAndSaysGoneWhenTooOld() async throws {
        let store = try ObjectStore(path: "\(directory!)/db", windowCapacity: 3)
        for index in 1...5 { try store.write("pods", namespace: "default", name: "p\(index)") { _ in ["metadata": ["name": .string("p\(index)")]] } }
        let stream = try store.watch("pods", namespace: "default", since: 3)
        var iterator = stream.makeAsyncIterator()
        let fourth = await iterator.next()
        let fifth = await iterator.next()
        XCTAssertEqual([fourth?.revision, fifth?.revision], [4, 5])
        try store.write("pods", namespace: "default", name: "p1") { _ in nil }
        let deleted = await iterator.next()
        XCTAssertEqual(deleted?.kind, .deleted)
        XCTAssertEqual(deleted?.object.name, "p1")
        XCTAssertThrowsError(try store.watch("pods", namespace: nil, since: 1)) { error in
            guard case StoreError.gone = error else { return XCTFail("\(error)") }
        }
    }

    func testResourcePaths() throws {
        let pod = try ResourcePath.parse("/api/v1/namespaces/ns/pods/p/status")
        XCTAssertEqual(pod?.definition.kind, "Pod")
        XCTAssertEqual(pod?.namespace, "ns")
        XCTAssertEqual(pod?.name, "p")
        XCTAssertEqual(pod?.subresource, "status")
        let namespace = try ResourcePath.parse("/api/v1/namespaces/ns")
        XCTAssertEqual(namespace?.definition.kind, "Namespace")
        XCTAssertEqual(namespace?.name, "ns")
        let deployments = try ResourcePath.parse("/apis/apps/v1/deployments")
        XCTAssertEqual(deployments?.definition.kind, "Deployment")
        XCTAssertNil(deployments?.namespace)
        XCTAssertThrowsError(try ResourcePath.parse("/api/v1/namespaces/ns/widgets"))
        XCTAssertThrowsError(try ResourcePath.parse("/api/v1/namespaces/ns/pods/p/widgets"))
        XCTAssertEqual(try ResourcePath.parse("/api/v1/namespaces/ns/pods/p/exec")?.subresource, "exec")
        XCTAssertNil(try ResourcePath.parse("/healthz"))
    }
}
