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

    /// A watch's filter runs as the store publishes: its backlog, its live events, and the
    /// encoding each event carries is the object's stored bytes.
    func testAFilteredWatchIsSentOnlyWhatItSelects() async throws {
        let store = try ObjectStore(path: "\(directory!)/db")
        func pod(_ name: String, node: String) -> JSONValue { ["metadata": ["name": .string(name)], "spec": ["nodeName": .string(node)]] }
        try store.write("pods", namespace: "default", name: "a") { _ in pod("a", node: "n1") }
        try store.write("pods", namespace: "default", name: "b") { _ in pod("b", node: "n2") }
        let selector = try FieldSelector(parsing: "spec.nodeName=n2")
        let stream = try store.watch("pods", namespace: nil, since: nil) { selector.matches($0.object) }
        var iterator = stream.makeAsyncIterator()
        let backlog = await iterator.next()
        XCTAssertEqual(backlog?.object.name, "b", "the current objects are filtered too")
        try store.write("pods", namespace: "default", name: "c") { _ in pod("c", node: "n1") }
        let written = try store.write("pods", namespace: "default", name: "d") { _ in pod("d", node: "n2") }
        let live = await iterator.next()
        XCTAssertEqual(live?.object.name, "d", "c is on another node")
        XCTAssertEqual(live?.encoded, written.encoded)
        XCTAssertEqual(try JSONCoding.decode(XCTUnwrap(live?.encoded)), written.object)
        let replay = try store.watch("pods", namespace: "default", since: 2) { selector.matches($0.object) }
        var replayed = replay.makeAsyncIterator()
        let first = await replayed.next()
        XCTAssertEqual(first?.object.name, "d", "a replay from a revision is filtered")
    }

    /// The index follows creations, changes of the field, deletions, and a reopened store.
    func testAFieldIndexFollowsEveryWrite() throws {
        let store = try ObjectStore(path: "\(directory!)/db")
        func pod(_ name: String, node: String?) -> JSONValue {
            var object: JSONValue = ["metadata": ["name": .string(name)], "spec": [:]]
            if let node { object.set(.string(node), at: "spec.nodeName") }
            return object
        }
        func names(_ namespace: String?, _ node: String) -> [String] {
            store.list("pods", namespace: namespace, whereField: "spec.nodeName", is: node).compactMap(\.object.name)
        }
        try store.write("pods", namespace: "a", name: "p1") { _ in pod("p1", node: "n1") }
        try store.write("pods", namespace: "b", name: "p2") { _ in pod("p2", node: "n1") }
        try store.write("pods", namespace: "a", name: "p3") { _ in pod("p3", node: nil) }
        XCTAssertEqual(names(nil, "n1"), ["p1", "p2"], "built from what is stored")
        XCTAssertEqual(names("a", "n1"), ["p1"])
        try store.write("pods", namespace: "a", name: "p3") { _ in pod("p3", node: "n1") }
        try store.write("pods", namespace: "a", name: "p4") { _ in pod("p4", node: "n2") }
        XCTAssertEqual(names("a", "n1"), ["p1", "p3"], "a pod bound later")
        try store.write("pods", namespace: "a", name: "p1") { _ in pod("p1", node: "n2") }
        try store.write("pods", namespace: "b", name: "p2") { _ in nil }
        XCTAssertEqual(names(nil, "n1"), ["p3"])
        XCTAssertEqual(names(nil, "n2"), ["p1", "p4"])
        XCTAssertEqual(names(nil, "n3"), [])
        let reopened = try ObjectStore(path: "\(directory!)/db")
        XCTAssertEqual(reopened.list("pods", namespace: nil, whereField: "spec.nodeName", is: "n2").compactMap(\.object.name), ["p1", "p4"])
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
