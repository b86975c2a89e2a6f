import FairAPIServer
import FairKube
import FairServer
import Foundation
import XCTest

/// A real API server in this process: by default its handlers called in process (the same
/// authentication, admission, store and watches, no TLS or sockets); with
/// `FAIR_TEST_TRANSPORT=https`, a whole bundled server on free ports reached over HTTPS.
final class TestServer {
    let directory: String
    /// Makes a client of its own (as a separate process would have one).
    let makeClient: () throws -> KubeClient
    private let task: Task<Void, Error>?

    private init(directory: String, makeClient: @escaping () throws -> KubeClient, task: Task<Void, Error>?) {
        self.directory = directory
        self.makeClient = makeClient
        self.task = task
    }

    static func start() async throws -> TestServer {
        let directory = NSTemporaryDirectory() + "scheduler-test-\(UUID().uuidString)"
        guard ProcessInfo.processInfo.environment["FAIR_TEST_TRANSPORT"] == "https" else {
            let token = "scheduler-tests"
            let api = try APIServer(dataDirectory: directory, token: token)
            return TestServer(directory: directory, makeClient: {
                try KubeClient(config: Kubeconfig(server: "https://in-process", token: token), transport: InProcessTransport(api: api))
            }, task: nil)
        }
        var options = ServerOptions(dataDirectory: directory)
        options.port = 0
        options.registryPort = 0
        let server = try BundledServer(options: options)
        let (ready, signal) = AsyncStream<String>.makeStream()
        let task = Task { try await server.run { endpoints in signal.yield(endpoints.kubeconfig) } }
        var iterator = ready.makeAsyncIterator()
        guard let kubeconfig = await iterator.next() else {
            task.cancel()
            _ = try? await task.value
            try? FileManager.default.removeItem(atPath: directory)
            throw WaitTimeout(description: "the API server did not start")
        }
        return TestServer(directory: directory, makeClient: { try KubeClient(config: try Kubeconfig.load(path: kubeconfig)) }, task: task)
    }

    /// The server waits (seconds) for clients' idle keep-alive connections as it shuts down:
    /// release every client first.
    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A client of a `TestServer`, with helpers to make the Node and Pod objects scheduler tests
/// need. Nodes are plain API objects here: no node agent runs.
final class TestCluster {
    let server: TestServer
    let client: KubeClient

    init(server: TestServer) throws {
        self.server = server
        client = try server.makeClient()
    }

    /// A stopped informer notices only at its watch's next event, and the server's shutdown waits
    /// for open watches: one change of each kind lets them end now.
    func endWatches() {
        _ = try? client.create(.nodes, ["metadata": ["name": "end-of-test"]])
        _ = try? createPod("end-of-test", schedulerName: "nobody")
    }

    /// A client of its own, as a separate scheduler process would have.
    func newClient() throws -> KubeClient { try server.makeClient() }

    @discardableResult
    func createNode(_ name: String, cpu: String = "4", memory: String = "8Gi", pods: Int = 110, gpus: Int? = nil,
                    labels: [String: String] = [:], taints: [JSONValue] = [], ready: Bool = true,
                    unschedulable: Bool = false) throws -> JSONValue {
        var resources: JSONValue = ["cpu": .string(cpu), "memory": .string(memory), "pods": .string(String(pods))]
        if let gpus { resources["nvidia.com/gpu"] = .string(String(gpus)) }
        var node: JSONValue = ["apiVersion": "v1", "kind": "Node",
                               "metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))],
                               "spec": ["unschedulable": .bool(unschedulable), "taints": .array(taints)]]
        node = try client.create(.nodes, node)
        node["status"] = ["capacity": resources, "allocatable": resources,
                          "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False"), "reason": "KubeletReady"]]]
        return try client.update(.nodes, node, subresource: "status")
    }

    @discardableResult
    func createPod(_ name: String, namespace: String = "default", requests: [String: String] = [:], limits: [String: String] = [:],
                   nodeSelector: [String: String] = [:], tolerations: [JSONValue] = [], schedulerName: String? = nil,
                   labels: [String: String] = [:]) throws -> JSONValue {
        var container: JSONValue = ["name": "main", "image": "busybox:1.36"]
        var resources: JSONValue = [:]
        if !requests.isEmpty { resources["requests"] = .object(requests.mapValues(JSONValue.string)) }
        if !limits.isEmpty { resources["limits"] = .object(limits.mapValues(JSONValue.string)) }
        container["resources"] = resources
        var spec: JSONValue = ["containers": [container]]
        if !nodeSelector.isEmpty { spec["nodeSelector"] = .object(nodeSelector.mapValues(JSONValue.string)) }
        if !tolerations.isEmpty { spec["tolerations"] = .array(tolerations) }
        if let schedulerName { spec["schedulerName"] = .string(schedulerName) }
        return try client.create(.pods, namespace: namespace, ["apiVersion": "v1", "kind": "Pod",
                                                                "metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))],
                                                                "spec": spec])
    }

    func pod(_ name: String, namespace: String = "default") throws -> JSONValue {
        try client.get(.pods, namespace: namespace, name: name)
    }

    func nodeName(of pod: String) throws -> String? {
        try self.pod(pod).value(at: "spec.nodeName")?.stringValue
    }

    /// Polls `check` until it returns a value or `timeout` passes.
    func waitFor<T>(_ what: String, timeout: TimeInterval = 10, _ check: () throws -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let value = try check() { return value }
            guard Date() < deadline else { throw WaitTimeout(description: "timed out after \(timeout) s waiting for \(what)") }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    func waitForBinding(_ pod: String, timeout: TimeInterval = 10) throws -> String {
        try waitFor("pod \(pod) to be bound", timeout: timeout) { try nodeName(of: pod) }
    }

    /// The message of the pod's `PodScheduled=False` condition, once it has one.
    func waitForUnschedulableMessage(_ pod: String, timeout: TimeInterval = 10) throws -> String {
        try waitFor("pod \(pod) to be marked unschedulable", timeout: timeout) {
            let conditions = try self.pod(pod).value(at: "status.conditions")?.arrayValue ?? []
            let scheduled = conditions.first { $0["type"]?.stringValue == "PodScheduled" }
            guard scheduled?["status"]?.stringValue == "False", scheduled?["reason"]?.stringValue == "Unschedulable" else { return nil }
            return scheduled?["message"]?.stringValue
        }
    }

    func events(for pod: String, reason: String, namespace: String = "default") throws -> [JSONValue] {
        let items = try client.list(.events, namespace: namespace)["items"]?.arrayValue ?? []
        return items.filter { $0.value(at: "involvedObject.name")?.stringValue == pod && $0["reason"]?.stringValue == reason }
    }

}

struct WaitTimeout: Error, CustomStringConvertible {
    let description: String
}
