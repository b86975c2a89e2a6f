import FairControllers
import FairKube
import FairServer
import Foundation
import XCTest

/// A real bundled API server on free ports and a `ControllerManager` against it. There is no
/// scheduler and no node agent: a test plays the node by writing pod status through the API.
class ControllerTestCase: XCTestCase {
    private var directory: String!
    private var serverTask: Task<Void, Error>!
    private var manager: ControllerManager?
    var client: KubeClient!

    override func setUp() async throws {
        directory = NSTemporaryDirectory() + "controllers-\(UUID().uuidString)"
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
        manager?.stop()
        serverTask?.cancel()
        _ = try? await serverTask?.value
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts the controllers; tests that need other timings change `options` first.
    func startControllers(_ configure: (inout ControllerOptions) -> Void = { _ in }) {
        var options = ControllerOptions()
        options.jobBackoffBase = 0.05
        options.jobBackoffMax = 0.2
        configure(&options)
        let manager = ControllerManager(client: client, options: options)
        manager.start()
        self.manager = manager
    }

    // MARK: - Waiting

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    /// Polls `probe` until it returns a value, failing after `timeout` seconds. (Return a
    /// `JSONValue` with `guard … else { return nil }`: in `cond ? value : nil` the nil would be
    /// the JSON null, a value.)
    @discardableResult
    func eventually<T>(_ what: String, timeout: TimeInterval = 10, _ probe: () throws -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: Error?
        while Date() < deadline {
            do {
                if let value = try probe() { return value }
            } catch {
                lastError = error
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw Timeout(description: "timed out after \(timeout)s waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
    }

    /// Polls `condition` until it holds, failing after `timeout` seconds.
    func waitUntil(_ what: String, timeout: TimeInterval = 10, _ condition: () throws -> Bool) throws {
        try eventually(what, timeout: timeout) { () -> Bool? in
            if try condition() { return true }
            return nil
        }
    }

    /// Checks `condition` stays true for `duration` seconds.
    func stays(_ what: String, for duration: TimeInterval, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(duration)
        while Date() < deadline {
            guard try condition() else { throw Timeout(description: "\(what) stopped holding") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    // MARK: - Reading

    func list(_ resource: APIResource, labelSelector: String? = nil) throws -> [JSONValue] {
        try client.list(resource, namespace: "default", labelSelector: labelSelector)["items"]?.arrayValue ?? []
    }

    func pods(_ labelSelector: String? = nil) throws -> [JSONValue] { try list(.pods, labelSelector: labelSelector) }

    func activePods(_ labelSelector: String? = nil) throws -> [JSONValue] {
        try pods(labelSelector).filter { pod in
            let phase = pod.value(at: "status.phase")?.stringValue
            return phase != "Succeeded" && phase != "Failed" && pod.value(at: "metadata.deletionTimestamp") == nil
        }
    }

    func isReady(_ pod: JSONValue) -> Bool {
        (pod.value(at: "status.conditions")?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    func condition(_ object: JSONValue, _ type: String) -> JSONValue? {
        (object.value(at: "status.conditions")?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
    }

    func eventReasons(for name: String) throws -> [String] {
        try list(.events).filter { $0.value(at: "involvedObject.name")?.stringValue == name }
            .compactMap { $0["reason"]?.stringValue }
    }

    // MARK: - Playing the node

    static var nextIP = 10

    func markRunning(_ pod: JSONValue, ready: Bool = true) throws {
        Self.nextIP += 1
        let ip = pod.value(at: "status.podIP")?.stringValue ?? "10.0.0.\(Self.nextIP)"
        _ = try client.mergePatch(.pods, namespace: pod.namespace, name: pod.name ?? "", [
            "status": ["phase": "Running", "podIP": .string(ip),
                       "conditions": [["type": "Ready", "status": ready ? "True" : "False",
                                       "lastTransitionTime": .string(Self.timestamp())]]],
        ], subresource: "status")
    }

    func markFinished(_ pod: JSONValue, succeeded: Bool) throws {
        _ = try client.mergePatch(.pods, namespace: pod.namespace, name: pod.name ?? "", [
            "status": ["phase": succeeded ? "Succeeded" : "Failed",
                       "conditions": [["type": "Ready", "status": "False", "lastTransitionTime": .string(Self.timestamp())]]],
        ], subresource: "status")
    }

    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func container(image: String = "registry.local/app:1", ports: [JSONValue] = []) -> JSONValue {
        var container: JSONValue = ["name": "main", "image": .string(image)]
        if !ports.isEmpty { container["ports"] = .array(ports) }
        return container
    }
}
