import FairArchive
import FairHTTP
import Foundation

/// A client for any Kubernetes API server (the bundled one or a real cluster), using only
/// standard API paths. Controllers, the scheduler, node agents and `fair train` all go through it.
public final class KubeClient: @unchecked Sendable {
    public let config: Kubeconfig
    let http: KubeTransport
    /// The HTTPS client, when that is the transport (for its CA file, and transfer progress).
    let https: HTTPClient?

    /// A client for `config`'s server over `transport`: the bundled loops' in-process one.
    public init(config: Kubeconfig, transport: KubeTransport) {
        self.config = config
        http = transport
        https = transport as? HTTPClient
    }

    public init(config: Kubeconfig) throws {
        self.config = config
        var configuration = HTTPClient.Configuration()
        configuration.userAgent = "fair"
        // Watches may sit idle for minutes between events; they end through timeoutSeconds.
        configuration.stallTimeout = 3600
        if let pem = config.certificateAuthorityPEM {
            configuration.caFile = try Self.privateFile(pem, suffix: "pem")
        }
        configuration.verifiesServer = !config.skipsTLSVerify
        if let certificate = config.clientCertificatePEM, let key = config.clientKeyPEM {
            configuration.clientCertificateFile = try Self.privateFile(certificate, suffix: "crt")
            configuration.clientKeyFile = try Self.privateFile(key, suffix: "key")
        }
        let client = HTTPClient(configuration: configuration)
        http = client
        https = client
    }

    /// The file of the kubeconfig's certificate authority, for another client that must trust
    /// the same server (the registry's token endpoint on the API port); nil: the system's roots.
    public var certificateAuthorityFile: String? { https?.configuration.caFile }

    /// libcurl takes CA bundles, client certificates and keys from files: keep one per distinct
    /// content, in a directory only we can read.
    private static func privateFile(_ pem: String, suffix: String) throws -> String {
        let hasher = DigestingSink()
        try hasher.write(Array(pem.utf8))
        try hasher.finish()
        let hex = hasher.hexDigest!
        let directory = NSTemporaryDirectory() + "fair-kube-ca-\(getuid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = "\(directory)/\(hex.prefix(16)).\(suffix)"
        if !FileManager.default.fileExists(atPath: path) {
            try AtomicFile.write(to: path, bytes: Array(pem.utf8), permissions: 0o600)
        }
        return path
    }

    // MARK: - Verbs

    public func get(_ resource: APIResource, namespace: String? = nil, name: String, subresource: String? = nil) throws -> JSONValue {
        try call("GET", resource.path(namespace: namespace ?? defaultNamespace(resource), name: name, subresource: subresource))
    }

    /// One page of a list; `continue` the returned token for the next.
    public func list(_ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                     limit: Int? = nil, continue token: String? = nil) throws -> JSONValue {
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let token { query.append(("continue", token)) }
        return try call("GET", resource.path(namespace: namespace), query: query)
    }

    public func create(_ resource: APIResource, namespace: String? = nil, _ object: JSONValue) throws -> JSONValue {
        try call("POST", resource.path(namespace: namespace ?? object.namespace ?? defaultNamespace(resource)), body: object)
    }

    /// PUT; fails with a 409 `KubeError` when the object changed since `object` was read.
    public func update(_ resource: APIResource, _ object: JSONValue, subresource: String? = nil) throws -> JSONValue {
        guard let name = object.name else { throw KubeError(code: 400, reason: "BadRequest", message: "the object has no metadata.name") }
        return try call("PUT", resource.path(namespace: object.namespace ?? defaultNamespace(resource), name: name, subresource: subresource), body: object)
    }

    public func mergePatch(_ resource: APIResource, namespace: String? = nil, name: String, _ patch: JSONValue, subresource: String? = nil) throws -> JSONValue {
        try call("PATCH", resource.path(namespace: namespace ?? defaultNamespace(resource), name: name, subresource: subresource),
                 body: patch, contentType: "application/merge-patch+json")
    }

    /// POST to a subresource of one object, e.g. `pods/NAME/binding` or `pods/NAME/eviction`.
    public func post(_ resource: APIResource, namespace: String? = nil, name: String, subresource: String, _ body: JSONValue) throws -> JSONValue {
        try call("POST", resource.path(namespace: namespace ?? defaultNamespace(resource), name: name, subresource: subresource), body: body)
    }

    /// Streams a pod's log into `sink` (`pods/NAME/log`); with `follow`, until the container exits.
    public func log(namespace: String? = nil, pod: String, container: String? = nil, follow: Bool = false, tailLines: Int? = nil,
                    timestamps: Bool = false, sink: ByteSink) throws {
        var query: [(String, String)] = []
        if let container { query.append(("container", container)) }
        if follow { query.append(("follow", "true")) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        if timestamps { query.append(("timestamps", "true")) }
        let request = try makeRequest("GET", APIResource.pods.path(namespace: namespace ?? config.namespace, name: pod, subresource: "log"),
                                      query: query, body: nil, contentType: nil)
        let response: HTTPResponse
        do {
            response = try http.send(request, sink: sink, maxBodyBytes: 16 << 20)
        } catch let error as HTTPError {
            throw KubeError(code: 0, reason: "Unreachable", message: "cannot reach the API server \(config.server): \(error.description)")
        }
        guard (200..<300).contains(response.status) else { throw KubeError(response) }
    }

    /// DELETE; `gracePeriodSeconds: 0` removes a pod at once (what a node agent sends once its
    /// containers are gone), `propagation` is Background, Foreground or Orphan.
    public func delete(_ resource: APIResource, namespace: String? = nil, name: String, propagation: String? = nil,
                       gracePeriodSeconds: Int? = nil, preconditionUID: String? = nil) throws {
        var options: JSONValue = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagation { options["propagationPolicy"] = .string(propagation) }
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        if let preconditionUID { options["preconditions"] = ["uid": .string(preconditionUID)] }
        let body: JSONValue? = options.objectValue!.count > 2 ? options : nil
        _ = try call("DELETE", resource.path(namespace: namespace ?? defaultNamespace(resource), name: name), body: body)
    }

    public enum WatchEventType: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
    }

    /// Streams watch events to `handler` until the server ends the watch (`timeoutSeconds`) or the
    /// handler returns false. Returns the last resourceVersion seen, to resume from.
    @discardableResult
    public func watch(_ resource: APIResource, namespace: String? = nil, resourceVersion: String? = nil, labelSelector: String? = nil,
                      fieldSelector: String? = nil, timeoutSeconds: Int = 300, handler: @escaping (WatchEventType, JSONValue) -> Bool) throws -> String? {
        var query: [(String, String)] = [("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", String(timeoutSeconds))]
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        let sink = WatchLineSink(handler: handler)
        let request = try makeRequest("GET", resource.path(namespace: namespace), query: query, body: nil, contentType: nil)
        do {
            let response = try http.send(request, sink: sink, maxBodyBytes: 16 << 20)
            guard (200..<300).contains(response.status) else { throw KubeError(response) }
        } catch let error as HTTPError {
            if case .sink = error, sink.stopped { return sink.lastResourceVersion }
            throw KubeError(code: 0, reason: "Unreachable", message: error.description)
        }
        return sink.lastResourceVersion
    }

    /// Any request to a path of the server, answered as it is (status and body): how `fair
    /// predict` reaches a Service through the API server's service proxy.
    public func raw(_ method: String, path: String, body: [UInt8]? = nil, contentType: String = "application/json",
                    maxBodyBytes: Int = 64 << 20) throws -> (status: Int, body: [UInt8]) {
        guard let url = URL(string: config.server + path)?.absoluteString else {
            throw KubeError(code: 400, reason: "BadRequest", message: "invalid URL for \(path)")
        }
        var headers = HTTPHeaders()
        if let token = config.token { headers.set("Authorization", "Bearer \(token)") }
        if body != nil { headers.set("Content-Type", contentType) }
        var request = HTTPRequest(method: method, url: url, headers: headers)
        if let body { request.body = .bytes(body) }
        do {
            let response = try http.send(request, sink: nil, maxBodyBytes: maxBodyBytes)
            return (response.status, response.body)
        } catch let error as HTTPError {
            throw KubeError(code: 0, reason: "Unreachable", message: "cannot reach the API server \(config.server): \(error.description)")
        }
    }

    // MARK: - Plumbing

    private func defaultNamespace(_ resource: APIResource) -> String? { resource.namespaced ? config.namespace : nil }

    private func makeRequest(_ method: String, _ path: String, query: [(String, String)], body: JSONValue?, contentType: String?) throws -> HTTPRequest {
        var components = URLComponents(string: config.server + path)
        if !query.isEmpty { components?.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components?.string else { throw KubeError(code: 400, reason: "BadRequest", message: "invalid URL for \(path)") }
        var headers = HTTPHeaders()
        headers.set("Accept", "application/json")
        if let token = config.token { headers.set("Authorization", "Bearer \(token)") }
        var request = HTTPRequest(method: method, url: url, headers: headers)
        if let body {
            headers.set("Content-Type", contentType ?? "application/json")
            request.headers = headers
            request.body = .bytes(Array(JSONCoding.encode(body)))
        }
        return request
    }

    private func call(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, contentType: String? = nil) throws -> JSONValue {
        let request = try makeRequest(method, path, query: query, body: body, contentType: contentType)
        let response: HTTPResponse
        do {
            response = try http.send(request, sink: nil, maxBodyBytes: 256 << 20)
        } catch let error as HTTPError {
            throw KubeError(code: 0, reason: "Unreachable", message: "cannot reach the API server \(config.server): \(error.description)")
        }
        guard (200..<300).contains(response.status) else { throw KubeError(response) }
        return response.body.isEmpty ? .null : try JSONCoding.decode(Data(response.body))
    }
}

/// An error the API server returned, decoded from its `Status` body.
public struct KubeError: Error, CustomStringConvertible, Sendable {
    public var code: Int
    public var reason: String
    public var message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    init(_ response: HTTPResponse) {
        let status = try? JSONCoding.decode(Data(response.body))
        code = response.status
        reason = status?["reason"]?.stringValue ?? "Unknown"
        message = status?["message"]?.stringValue ?? String(decoding: response.body.prefix(300), as: UTF8.self)
    }

    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 }
    public var description: String { message.isEmpty ? "\(code) \(reason)" : message }
}

/// Splits a watch response into its newline-delimited JSON events as they arrive.
final class WatchLineSink: ByteSink {
    private var pending: [UInt8] = []
    private let handler: (KubeClient.WatchEventType, JSONValue) -> Bool
    private(set) var stopped = false
    private(set) var lastResourceVersion: String?

    struct Stop: Error {}

    init(handler: @escaping (KubeClient.WatchEventType, JSONValue) -> Bool) { self.handler = handler }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            guard !line.isEmpty, let event = try? JSONCoding.decode(Data(line)),
                  let type = event["type"]?.stringValue.flatMap(KubeClient.WatchEventType.init(rawValue:)) else { continue }
            let object = event["object"] ?? .null
            if let version = object.resourceVersion { lastResourceVersion = version }
            if !handler(type, object) {
                stopped = true
                throw Stop()
            }
        }
    }

    func finish() throws {}
}
