import FairAPIServer
import FairKube
import FairServer
@testable import FairNode
import Foundation
import XCTest

/// A real bundled API server in this process on free ports, with a client for it, and a data
/// directory for node agents; everything removed by `stop`.
final class TestCluster {
    let directory: String
    let client: KubeClient
    let server: BundledServer
    private let serverTask: Task<Void, Error>

    private init(directory: String, client: KubeClient, server: BundledServer, serverTask: Task<Void, Error>) {
        self.directory = directory
        self.client = client
        self.server = server
        self.serverTask = serverTask
    }

    static func start() async throws -> TestCluster {
        let directory = NSTemporaryDirectory() + "fair-node-test-\(UUID().uuidString)"
        var options = ServerOptions(dataDirectory: directory + "/server")
        options.port = 0
        options.registryPort = 0
        let server = try BundledServer(options: options)
        let (ready, signal) = AsyncStream<String>.makeStream()
        let task = Task { try await server.run { endpoints in signal.yield(endpoints.kubeconfig) } }
        var iterator = ready.makeAsyncIterator()
        guard let kubeconfig = await iterator.next() else {
            task.cancel()
            throw XCTSkip("the API server did not start")
        }
        let config = try Kubeconfig.load(path: kubeconfig)
        let client = try KubeClient(config: config)
        // What the controllers (not run here) keep in every namespace: the account pods run as,
        // and the CA their token volume carries.
        _ = try client.create(.serviceAccounts, namespace: "default", ["metadata": ["name": "default"]])
        _ = try client.create(.configMaps, namespace: "default", ["metadata": ["name": "kube-root-ca.crt"],
                                                                  "data": ["ca.crt": .string(config.certificateAuthorityPEM ?? "")]])
        return TestCluster(directory: directory, client: client, server: server, serverTask: task)
    }

    func stop() async {
        serverTask.cancel()
        _ = try? await serverTask.value
        try? FileManager.default.removeItem(atPath: directory)
    }

    func nodeDirectory(_ name: String) -> String { "\(directory)/nodes/\(name)" }

    /// A pod bound to `node` from the start, as if a scheduler had placed it.
    @discardableResult
    func createPod(_ name: String, node: String, containers: [JSONValue], restartPolicy: String = "Always",
                   extraSpec: [String: JSONValue] = [:]) throws -> JSONValue {
        var spec: [String: JSONValue] = ["nodeName": .string(node), "containers": .array(containers), "restartPolicy": .string(restartPolicy)]
        for (key, value) in extraSpec { spec[key] = value }
        return try client.create(.pods, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"],
                                         "spec": .object(spec)])
    }

    /// What an API server with graceful deletion does on DELETE of a bound pod: it only marks the
    /// pod (deletionTimestamp + grace), and the node agent finishes the deletion.
    func markDeleted(_ name: String, gracePeriodSeconds: Int64) throws {
        try server.api.store.write("pods", namespace: "default", name: name) { stored in
            guard var pod = stored?.object else { return nil }
            pod.set(.string(KubeTime.format(Date())), at: "metadata.deletionTimestamp")
            pod.set(.int(gracePeriodSeconds), at: "metadata.deletionGracePeriodSeconds")
            return pod
        }
    }

    func pod(_ name: String) -> JSONValue? { try? client.get(.pods, namespace: "default", name: name) }

    /// Polls `read` until `condition` holds, failing the test with the last value after `timeout`.
    @discardableResult
    func eventually<T>(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                       _ read: () -> T, until condition: (T) -> Bool) -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var value = read()
        while !condition(value) {
            if Date() > deadline {
                XCTFail("timed out waiting for \(what); last seen: \(String(describing: value).prefix(2000))", file: file, line: line)
                return value
            }
            Thread.sleep(forTimeInterval: 0.05)
            value = read()
        }
        return value
    }
}

extension JSONValue {
    /// The status of container `name` in a pod.
    func containerStatus(_ name: String) -> JSONValue? {
        value(at: "status.containerStatuses")?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    func condition(_ type: String) -> String? {
        value(at: "status.conditions")?.arrayValue?.first { $0["type"]?.stringValue == type }?["status"]?.stringValue
    }

    var phase: String? { value(at: "status.phase")?.stringValue }
}
