import FairArchive
import FairHTTP
import FairKube
@testable import FairServing
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import XCTest

/// A Service and its Endpoints as the API server would hold them.
enum Objects {
    static func service(_ name: String, namespace: String = "default", ports: [JSONValue] = [["name": "http", "port": 80]]) -> JSONValue {
        ["apiVersion": "v1", "kind": "Service",
         "metadata": ["name": .string(name), "namespace": .string(namespace)],
         "spec": ["ports": .array(ports)]]
    }

    /// One subset per distinct port, as pods serving on different ports would be grouped.
    static func endpoints(_ name: String, namespace: String = "default", ready: [(String, Int)], notReady: [(String, Int)] = [],
                          portName: String = "http") -> JSONValue {
        var byPort: [Int: (ready: [JSONValue], notReady: [JSONValue])] = [:]
        for (ip, port) in ready { byPort[port, default: ([], [])].ready.append(["ip": .string(ip)]) }
        for (ip, port) in notReady { byPort[port, default: ([], [])].notReady.append(["ip": .string(ip)]) }
        let subsets: [JSONValue] = byPort.keys.sorted().map { port in
            var subset: JSONValue = ["ports": [["name": .string(portName), "port": .int(Int64(port)), "protocol": "TCP"]]]
            if let ready = byPort[port]?.ready, !ready.isEmpty { subset["addresses"] = .array(ready) }
            if let notReady = byPort[port]?.notReady, !notReady.isEmpty { subset["notReadyAddresses"] = .array(notReady) }
            return subset
        }
        return ["apiVersion": "v1", "kind": "Endpoints",
                "metadata": ["name": .string(name), "namespace": .string(namespace)],
                "subsets": .array(subsets)]
    }
}

/// The service proxy behind a real Hummingbird server on 127.0.0.1, as `fair server` runs it:
/// the serving port, and an API-port stand-in that puts the Kubernetes proxy paths in front of
/// an "API" answering 418 to everything else, guarded by `token`. The pod proxy finds pods in
/// `pods` (by `namespace/name`) and refuses any other credential with a 403.
final class ProxyUnderTest: @unchecked Sendable {
    static let token = "secret-token"
    let proxy: ServiceProxy
    let pods: NIOLockedValueBox<[String: JSONValue]>
    let servingPort: Int
    let apiPort: Int
    private let tasks: [Task<Void, Error>]

    var table: EndpointTable { proxy.table }

    static func start() async throws -> ProxyUnderTest {
        var logger = Logger(label: "serving-test")
        logger.logLevel = .critical
        let proxy = ServiceProxy(logger: logger)
        let pods = NIOLockedValueBox<[String: JSONValue]>([:])
        let (servingPorts, servingContinuation) = AsyncStream<Int>.makeStream()
        let servingApp = Application(
            responder: ServingResponder(proxy: proxy),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { servingContinuation.yield($0.localAddress?.port ?? 0); servingContinuation.finish() },
            logger: logger)
        let (apiPorts, apiContinuation) = AsyncStream<Int>.makeStream()
        let apiApp = Application(
            responder: CallbackResponder<ProxyRequestContext> { request, context in
                if let response = try await proxy.respondToKubernetesProxy(request, clientAddress: context.remoteAddress,
                                                                           authorize: { $0 == "Bearer \(token)" }) {
                    return response
                }
                if let response = try await proxy.respondToPodProxy(
                    request, clientAddress: context.remoteAddress,
                    authorize: { _ in request.headers[.authorization] == "Bearer \(token)" ? nil : Response(status: .forbidden) },
                    pod: { target in pods.withLockedValue { $0["\(target.namespace)/\(target.pod)"] } }) {
                    return response
                }
                return Response(status: .init(code: 418))
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { apiContinuation.yield($0.localAddress?.port ?? 0); apiContinuation.finish() },
            logger: logger)
        let tasks = [Task { try await servingApp.runService() }, Task { try await apiApp.runService() }]
        var servingIterator = servingPorts.makeAsyncIterator()
        var apiIterator = apiPorts.makeAsyncIterator()
        guard let servingPort = await servingIterator.next(), let apiPort = await apiIterator.next() else {
            for task in tasks { task.cancel() }
            throw XCTSkip("the proxy did not start")
        }
        return ProxyUnderTest(proxy: proxy, pods: pods, servingPort: servingPort, apiPort: apiPort, tasks: tasks)
    }

    private init(proxy: ServiceProxy, pods: NIOLockedValueBox<[String: JSONValue]>, servingPort: Int, apiPort: Int, tasks: [Task<Void, Error>]) {
        self.proxy = proxy
        self.pods = pods
        self.servingPort = servingPort
        self.apiPort = apiPort
        self.tasks = tasks
    }

    /// Routes `default/NAME` to the given backends.
    func route(_ name: String, to backends: [TestBackend], notReady: [TestBackend] = [], extra: [(String, Int)] = []) {
        table.update(namespace: "default", name: name, service: Objects.service(name),
                     endpoints: Objects.endpoints(name, ready: backends.map { ($0.host, $0.port) } + extra,
                                                  notReady: notReady.map { ($0.host, $0.port) }))
    }

    /// Stores a running pod `default/NAME` at `backend`'s address, declaring `ports` (name, number).
    func pod(_ name: String, at backend: TestBackend?, ports: [(String, Int)] = []) {
        var object: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"],
                                 "spec": ["containers": [["name": "main", "image": "x",
                                                          "ports": .array(ports.map { ["name": .string($0.0), "containerPort": .int(Int64($0.1))] })]]],
                                 "status": ["phase": backend == nil ? "Pending" : "Running"]]
        if let backend { object["status"]?["podIP"] = .string(backend.host) }
        pods.withLockedValue { $0["default/\(name)"] = object }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(servingPort)\(path)" }
    func apiURL(_ path: String) -> String { "http://127.0.0.1:\(apiPort)\(path)" }

    func stop() async {
        proxy.stop()
        for task in tasks {
            task.cancel()
            _ = await task.result
        }
    }
}

/// A client of the proxy: libcurl, run on a thread of its own so a blocking transfer never
/// holds one of the few threads the proxy's tasks run on.
struct Client {
    struct Reply {
        var status: Int
        var headers: FairHTTP.HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONCoding.decode(body) }
    }

    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = 5
        configuration.stallTimeout = 20
        configuration.maxRedirects = 0
        return HTTPClient(configuration: configuration)
    }()

    static func send(_ url: String, method: String = "GET", headers: [(String, String)] = [], body: HTTPBody = .empty,
                     sink: ByteSink? = nil) async throws -> Reply {
        let request = FairHTTP.HTTPRequest(method: method, url: url, headers: FairHTTP.HTTPHeaders(headers), body: body)
        let box = UncheckedSink(sink)
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let response = try http.send(request, sink: box.sink, maxBodyBytes: 64 << 20)
                    continuation.resume(returning: Reply(status: response.status, headers: response.headers, body: response.body))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private struct UncheckedSink: @unchecked Sendable {
        let sink: ByteSink?
        init(_ sink: ByteSink?) { self.sink = sink }
    }
}

/// Collects a streamed body, calling `onFirstBytes` when the first bytes arrive.
final class CollectingSink: ByteSink, @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private let onFirstBytes: () -> Void

    init(onFirstBytes: @escaping () -> Void) { self.onFirstBytes = onFirstBytes }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        lock.lock()
        let first = bytes.isEmpty
        bytes.append(contentsOf: buffer)
        lock.unlock()
        if first { onFirstBytes() }
    }

    func finish() throws {}

    var text: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
