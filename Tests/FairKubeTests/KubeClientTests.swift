import FairKube
import FairServer
import Foundation
import XCTest

/// The client against the real bundled server, started in this process on free ports.
final class KubeClientTests: XCTestCase {
    private var directory: String!
    private var serverTask: Task<Void, Error>!
    private var client: KubeClient!

    override func setUp() async throws {
        directory = NSTemporaryDirectory() + "kube-client-\(UUID().uuidString)"
        var options = ServerOptions(dataDirectory: directory)
        options.port = 0
        options.registryPort = 0
        let server = try BundledServer(options: options)
        let (ready, signal) = AsyncStream<String>.makeStream()
        serverTask = Task { try await server.run { endpoints in signal.yield(endpoints.kubeconfig) } }
        var iterator = ready.makeAsyncIterator()
        guard let kubeconfig = await iterator.next() else { return XCTFail("server did not start") }
        client = try KubeClient(config: try Kubeconfig.load(path: kubeconfig))
    }

    override func tearDown() async throws {
        serverTask.cancel()
        _ = try? await serverTask.value
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testKubeconfigIsReadLikeKubectlReadsIt() throws {
        XCTAssertTrue(client.config.server.hasPrefix("https://127.0.0.1:"))
        XCTAssertNotNil(client.config.certificateAuthorityPEM)
        XCTAssertEqual(client.config.namespace, "default")
        XCTAssertThrowsError(try Kubeconfig.load(path: "\(directory!)/kubeconfig", context: "nope")) { error in
            XCTAssertTrue("\(error)".contains("no context \"nope\""))
        }
    }

    func testCreateGetUpdateConflictPatchListDelete() throws {
        let created = try client.create(.configMaps, ["apiVersion": "v1", "kind": "ConfigMap",
                                                      "metadata": ["name": "c1", "labels": ["app": "x"]], "data": ["a": "1"]])
        XCTAssertEqual(created.namespace, "default")
        var changed = created
        changed["data"] = ["a": "2"]
        let updated = try client.update(.configMaps, changed)
        XCTAssertEqual(updated["data"]?["a"], "2")
        XCTAssertThrowsError(try client.update(.configMaps, created)) { error in
            XCTAssertTrue((error as? KubeError)?.isConflict ?? false, "\(error)")
        }
        let patched = try client.mergePatch(.configMaps, name: "c1", ["data": ["b": "3"]])
        XCTAssertEqual(patched["data"], ["a": "2", "b": "3"])
        XCTAssertEqual(try client.list(.configMaps, namespace: "default", labelSelector: "app=x")["items"]?.arrayValue?.count, 1)
        try client.delete(.configMaps, name: "c1")
        XCTAssertThrowsError(try client.get(.configMaps, name: "c1")) { error in
            XCTAssertTrue((error as? KubeError)?.isNotFound ?? false)
        }
    }

    func testWatchDeliversEventsAndResumes() throws {
        let start = try client.list(.configMaps, namespace: "default")
        let from = start.value(at: "metadata.resourceVersion")?.stringValue
        _ = try client.create(.configMaps, ["metadata": ["name": "w1"]])
        _ = try client.create(.configMaps, ["metadata": ["name": "w2"]])
        var seen: [String] = []
        let last = try client.watch(.configMaps, namespace: "default", resourceVersion: from, timeoutSeconds: 5) { type, object in
            seen.append("\(type.rawValue) \(object.name ?? "")")
            return seen.count < 2
        }
        XCTAssertEqual(seen, ["ADDED w1", "ADDED w2"])
        try client.delete(.configMaps, name: "w1")
        var after: [String] = []
        try client.watch(.configMaps, namespace: "default", resourceVersion: last, timeoutSeconds: 5) { type, object in
            after.append("\(type.rawValue) \(object.name ?? "")")
            return false
        }
        XCTAssertEqual(after, ["DELETED w1"])
    }

    func testPodsOnANodeAreDeletedGracefullyAndOthersAtOnce() throws {
        func pod(_ name: String, node: String?) -> JSONValue {
            var pod: JSONValue = ["metadata": ["name": .string(name)], "spec": ["containers": [["name": "c", "image": "busybox"]]]]
            if let node { pod.set(.string(node), at: "spec.nodeName") }
            return pod
        }
        _ = try client.create(.pods, pod("floating", node: nil))
        try client.delete(.pods, name: "floating")
        XCTAssertThrowsError(try client.get(.pods, name: "floating"))

        let running = try client.create(.pods, pod("running", node: "n1"))
        try client.delete(.pods, name: "running")
        let terminating = try client.get(.pods, name: "running")
        XCTAssertNotNil(terminating.value(at: "metadata.deletionTimestamp")?.stringValue)
        XCTAssertEqual(terminating.value(at: "metadata.deletionGracePeriodSeconds")?.intValue, 30)
        // A second delete may shorten the grace period, never lengthen it.
        try client.delete(.pods, name: "running", gracePeriodSeconds: 5)
        XCTAssertEqual(try client.get(.pods, name: "running").value(at: "metadata.deletionGracePeriodSeconds")?.intValue, 5)
        XCTAssertThrowsError(try client.delete(.pods, name: "running", gracePeriodSeconds: 0, preconditionUID: "other")) { error in
            XCTAssertTrue((error as? KubeError)?.isConflict ?? false, "\(error)")
        }
        // What a node agent sends once the containers are gone.
        try client.delete(.pods, name: "running", gracePeriodSeconds: 0, preconditionUID: running.uid)
        XCTAssertThrowsError(try client.get(.pods, name: "running"))

        _ = try client.create(.pods, pod("finished", node: "n1"))
        _ = try client.mergePatch(.pods, name: "finished", ["status": ["phase": "Succeeded"]], subresource: "status")
        try client.delete(.pods, name: "finished")
        XCTAssertThrowsError(try client.get(.pods, name: "finished"))
    }
}
