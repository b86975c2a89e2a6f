import FairArchive
import FairHTTP
import FairKube
import Foundation

/// `pods/NAME/log`: the node agent keeps container logs, so the API server asks the pod's node
/// for them (kubelet's `/containerLogs` endpoint, at the port the node publishes in
/// `status.daemonEndpoints`), as kube-apiserver does, and relays the bytes as they come.
/// Always over TLS: the node must present the key it published with its Node
/// (`NodeServingKey`), and the API server proves itself with its client certificate.
final class PodLogProxy: @unchecked Sendable {
    private let store: ObjectStore
    let credential: NodeClientCredential?

    init(store: ObjectStore, credential: NodeClientCredential?) {
        self.store = store
        self.credential = credential
    }

    /// Checks the request against the pod before answering, so a wrong container or a pod that
    /// is not running yet gets kubectl's 400 instead of an empty stream.
    func open(namespace: String, pod name: String, options: APIServer.LogOptions) async throws -> AsyncStream<[UInt8]> {
        let pods = KindDefinition.pod
        guard let pod = store.get(pods.storageKey, namespace: namespace, name: name)?.object else { throw APIError.notFound(pods, name) }
        let containers = (pod.value(at: "spec.containers")?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let initContainers = (pod.value(at: "spec.initContainers")?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let container: String
        if let requested = options.container, !requested.isEmpty {
            guard containers.contains(requested) || initContainers.contains(requested) else {
                throw APIError.badRequest("container \(requested) is not valid for pod \(name)")
            }
            container = requested
        } else if containers.count == 1 {
            container = containers[0]
        } else {
            let inits = initContainers.isEmpty ? "" : " or one of the init containers: [\(initContainers.joined(separator: " "))]"
            throw APIError.badRequest("a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]\(inits)")
        }
        let statuses = (pod.value(at: "status.initContainerStatuses")?.arrayValue ?? []) + (pod.value(at: "status.containerStatuses")?.arrayValue ?? [])
        let status = statuses.first { $0["name"]?.stringValue == container }
        guard let nodeName = pod.value(at: "spec.nodeName")?.stringValue, !nodeName.isEmpty,
              let status, status["state"]?["waiting"] == nil || (status["restartCount"]?.intValue ?? 0) > 0 else {
            let reason = status?["state"]?["waiting"]?["reason"]?.stringValue ?? "ContainerCreating"
            throw APIError.badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: \(reason)")
        }
        let endpoint = try NodeEndpoint.resolve(store: store, nodeName: nodeName, credential: credential, serving: "logs")
        guard let credential else { throw APIError.unknownPath }
        var query: [URLQueryItem] = []
        if options.follow { query.append(URLQueryItem(name: "follow", value: "true")) }
        if let tail = options.tailLines { query.append(URLQueryItem(name: "tailLines", value: String(tail))) }
        if options.timestamps { query.append(URLQueryItem(name: "timestamps", value: "true")) }
        if options.previous { query.append(URLQueryItem(name: "previous", value: "true")) }
        if let seconds = options.sinceSeconds { query.append(URLQueryItem(name: "sinceSeconds", value: String(seconds))) }
        if let time = options.sinceTime { query.append(URLQueryItem(name: "sinceTime", value: time)) }
        if let bytes = options.limitBytes { query.append(URLQueryItem(name: "limitBytes", value: String(bytes))) }
        guard let url = endpoint.url(scheme: "https", path: ["containerLogs", namespace, name, container], query: query) else {
            throw APIError.badRequest("cannot address node \(nodeName)")
        }
        // Made per relay: a relay is long (a follow) next to one handshake. A followed log may
        // be quiet for hours.
        return try await relay(url: url, node: nodeName, http: endpoint.client(credential: credential, stallTimeout: 365 * 24 * 3600))
    }

    /// Runs the blocking transfer on its own thread; bytes go out as they arrive, and a reader
    /// that hangs up ends the transfer. Returns once the node has answered: a node that refuses
    /// (its agent restarting, the pod not known there yet) gets its status and words passed on,
    /// never written into a 200 stream where a client would take them for the container's output.
    private func relay(url: String, node: String, http: HTTPClient) async throws -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let sink = RelaySink(continuation)
        continuation.onTermination = { _ in sink.cancel() }
        let request = HTTPRequest(method: "GET", url: url)
        let start = RelayStart()
        let thread = Thread {
            do {
                let response = try http.send(request, sink: sink)
                if (200..<300).contains(response.status) {
                    start.resolve(.streaming)
                } else {
                    let message = String(decoding: response.body.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    start.resolve(.refused(status: response.status, message: message))
                }
            } catch {
                if !sink.isCancelled { continuation.yield(Array("error: the node stopped answering: \(error)\n".utf8)) }
                start.resolve(.unreachable("\(error)"))
            }
            continuation.finish()
        }
        sink.onStart = { start.resolve(.streaming) }
        thread.name = "pod log relay"
        thread.start()
        switch await start.wait() {
        case .streaming:
            return stream
        case let .refused(status, message):
            let code = [400, 404].contains(status) ? status : 502
            throw APIError(code: code, reason: code == 404 ? "NotFound" : code == 400 ? "BadRequest" : "BadGateway",
                           message: "node \(node): \(message)")
        case let .unreachable(detail):
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "node \(node) does not answer for logs: \(detail)")
        }
    }
}

/// How the node first answered a relayed log request; awaited by the API's request handler.
private final class RelayStart: @unchecked Sendable {
    enum Outcome {
        case streaming
        case refused(status: Int, message: String)
        case unreachable(String)
    }

    private let lock = NSLock()
    private var outcome: Outcome?
    private var waiter: CheckedContinuation<Outcome, Never>?

    func resolve(_ value: Outcome) {
        lock.lock()
        guard outcome == nil else { lock.unlock(); return }
        outcome = value
        let waiting = waiter
        waiter = nil
        lock.unlock()
        waiting?.resume(returning: value)
    }

    func wait() async -> Outcome {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let outcome {
                lock.unlock()
                continuation.resume(returning: outcome)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}

/// Forwards each chunk into the response stream; throws once the reader is gone so libcurl stops.
private final class RelaySink: ByteSink, ResponseHeadObserver, @unchecked Sendable {
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let lock = NSLock()
    private var cancelled = false
    /// Called when the node answers 2xx, before the first byte.
    var onStart: (() -> Void)?

    func responseStarted(status: Int) {
        if (200..<300).contains(status) { onStart?() }
    }

    init(_ continuation: AsyncStream<[UInt8]>.Continuation) { self.continuation = continuation }

    struct ReaderGone: Error {}

    var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelled
    }

    func cancel() {
        lock.lock(); defer { lock.unlock() }
        cancelled = true
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if isCancelled { throw ReaderGone() }
        continuation.yield(Array(bytes))
    }

    func finish() throws {}
}
