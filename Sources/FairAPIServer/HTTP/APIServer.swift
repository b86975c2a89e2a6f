import FairArchive
import FairKube
import FairKubeProto
import Foundation
import Hummingbird

/// The Kubernetes-compatible API server: it authenticates, validates and defaults, writes to the
/// store and fans out watches. It does nothing else: every other component is a loop that reads
/// declared state through this API and works to make the world match it.
public final class APIServer: @unchecked Sendable {
    public let store: ObjectStore
    /// Service-account tokens: issued by TokenRequest, accepted as credentials.
    public let tokens: ServiceAccountTokens?
    let authenticator: Authenticator
    let authorizer: RBACAuthorizer
    let reviews: Reviews
    let metrics = RequestMetrics()
    private let lock = NSLock()
    private var depthSource: (@Sendable () -> [(queue: String, depth: Int)])?
    /// Serves `pods/log` from the pod's node agent.
    let logs: PodLogProxy
    let resourceMetrics: ResourceMetrics

    public struct LogOptions: Sendable {
        public var container: String?
        public var follow: Bool
        public var tailLines: Int?
        public var timestamps: Bool
        public var previous = false
        public var sinceSeconds: Int64?
        public var sinceTime: String?
        public var limitBytes: Int64?
    }

    /// `nodeClient`: the certificate the API server proves itself with to nodes when it relays
    /// their logs; without one, nodes are not asked (logs answer 503).
    /// `token`: the administrator's bearer token; nil serves everyone as the administrator.
    /// Where Services' cluster IPs come from; nil gives Services none (as before clusters had them).
    let serviceIPRange: ServiceIPRange?
    /// Held from choosing a Service's address to storing it, so two never get the same one.
    let serviceIPLock = NSLock()

    public init(dataDirectory: String, token: String?, nodeClient: NodeClientCredential? = nil,
                serviceIPRange: ServiceIPRange? = nil) throws {
        self.serviceIPRange = serviceIPRange
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        store = try ObjectStore(path: "\(dataDirectory)/store.db")
        tokens = try ServiceAccountTokens(keyPath: "\(dataDirectory)/service-account.key", store: store)
        authenticator = Authenticator(adminToken: token, tokens: tokens)
        authorizer = RBACAuthorizer(store: store)
        reviews = Reviews(authorizer: authorizer, tokens: tokens)
        logs = PodLogProxy(store: store, credential: nodeClient)
        resourceMetrics = ResourceMetrics(store: store, credential: nodeClient)
        try ensureSystemNamespaces()
        try BootstrapPolicy.ensure(in: store)
        try StorageAdmission.ensureDefaultClass(in: store)
    }

    /// The address clients reach the server at (`https://127.0.0.1:6443`): where the OIDC
    /// discovery document says the key set is.
    public var externalURL: String? {
        get { lock.lock(); defer { lock.unlock() }; return external }
        set { lock.lock(); external = newValue; lock.unlock() }
    }
    private var external: String?

    private func ensureSystemNamespaces() throws {
        let definition = KindDefinition.namespace
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] where store.get(definition.storageKey, namespace: "", name: name) == nil {
            var object: JSONValue = ["metadata": ["name": .string(name)]]
            Admission.prepareNew(&object, definition, namespace: "")
            try store.write(definition.storageKey, namespace: "", name: name) { _ in object }
        }
    }

    /// Answers one HTTP request (every path but the registry's `/v2`).
    public func handle<Context: RequestContext>(_ request: Request, context: Context) async throws -> Response {
        let started = Date()
        // Parsed once: routing uses them, and so does the metric label. A trailing slash names
        // the same thing (`/version/`, `/api/`), as kube-apiserver's router takes it.
        let path = Self.normalized(request.uri.path)
        let resource = Result { try ResourcePath.parse(path) }
        let query = Query(request.uri.query)
        let authenticator = self.authenticator
        let identify: @Sendable () async -> UserInfo? = {
            if let inProcess = (context as? InProcessIdentityRequestContext)?.inProcessUser { return inProcess }
            return await authenticator.identify(request.headers) {
                await (context as? ClientCertificateRequestContext)?.clientCertificateSubject()
            }
        }
        let response = await respond(request, path: path, resource: resource, query: query, identify: identify)
        let label = (try? resource.get())??.definition.storageKey ?? "other"
        let verb = query.flag("watch") || ((try? resource.get())??.watch ?? false) ? "WATCH" : request.method.rawValue
        metrics.record(verb: verb, resource: label, code: response.status.code, seconds: Date().timeIntervalSince(started))
        return response
    }

    static func normalized(_ path: String) -> String {
        var path = path.isEmpty ? "/" : path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    private func respond(_ request: Request, path: String, resource: Result<ResourcePath?, Error>, query: Query,
                         identify: @Sendable () async -> UserInfo?) async -> Response {
        do {
            return try await route(request, path: path, resource: resource, query: query, identify: identify)
        } catch {
            let apiError = Self.apiError(for: error)
            return Self.status(apiError.body)
        }
    }

    /// Every error a request can end in, as the `Status` kube-apiserver would answer.
    static func apiError(for error: Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as Patch.Failure:
            if case .tooLarge = error { return .tooLarge("Request entity too large: \(error.description)") }
            return APIError(code: 422, reason: "Invalid", message: error.description)
        case let error as LabelSelector.ParseError: return .badRequest(error.description)
        case let error as StoreError:
            switch error {
            case .notFound: return APIError(code: 404, reason: "NotFound", message: "not found")
            case .alreadyExists: return APIError(code: 409, reason: "AlreadyExists", message: "already exists")
            case let .conflict(why): return APIError(code: 409, reason: "Conflict", message: why)
            case let .gone(oldest): return .gone("too old resource version (oldest available: \(oldest))")
            case let .tooLarge(size, limit):
                return .tooLarge("Request entity too large: the object is \(size) bytes, the limit is \(limit)")
            }
        default:
            // A request body that ended early, a stream that broke: the request's fault or the
            // connection's, and never a crash; kube-apiserver answers such with a 500 Status.
            return APIError(code: 500, reason: "InternalError", message: "an error on the server (\(error)) has prevented the request from succeeding")
        }
    }

    private func route(_ request: Request, path: String, resource parsed: Result<ResourcePath?, Error>, query: Query,
                       identify: @Sendable () async -> UserInfo?) async throws -> Response {
        switch path {
        case "/healthz", "/livez", "/readyz":
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case "/version":
            return Self.json(Discovery.serverVersion)
        default:
            break
        }
        // Who asks is settled before the body is read, and what they ask before it is parsed.
        guard let user = await identify() else { throw APIError.unauthorized }
        let resource = try parsed.get()
        let attributes = resource.map {
            RequestAttributes(user: user, method: request.method, resource: $0, watch: query.flag("watch"),
                              fieldSelector: query["fieldSelector"], urlPath: path)
        } ?? RequestAttributes(user: user, method: request.method, nonResourcePath: path)
        let decision = authorizer.authorize(attributes)
        guard decision.allowed else { throw APIError.forbidden(attributes) }
        switch path {
        case "/api": return Self.json(Discovery.coreVersions)
        case "/apis": return Self.json(Discovery.groupList)
        case "/metrics": return metricsResponse()
        case "/openapi/v3": return Self.json(OpenAPI.discovery())
        case "/openapi/v2":
            if OpenAPIV2Protobuf.isAsked(request.headers[.accept] ?? "") {
                return Response(status: .ok, headers: [.contentType: OpenAPIV2Protobuf.contentType],
                                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIV2Protobuf.encoded)))
            }
            return Self.json(OpenAPI.version2)
        case "/.well-known/openid-configuration":
            guard let tokens else { throw APIError.unknownPath }
            return Self.json(tokens.discovery(jwksURI: "\(externalURL ?? tokens.issuer)/openid/v1/jwks"))
        case "/openid/v1/jwks":
            guard let tokens else { throw APIError.unknownPath }
            return Self.json(tokens.keySet, contentType: "application/jwk-set+json")
        default: break
        }
        if path.hasPrefix("/openapi/v3/") {
            guard let document = OpenAPI.document(String(path.dropFirst("/openapi/v3/".count))) else {
                throw APIError.unknownPath
            }
            return Self.json(document)
        }
        let segments = path.split(separator: "/").map(String.init)
        if segments.count == 2, segments[0] == "api", let list = Discovery.resourceList(group: "", version: segments[1]) {
            return Self.json(list)
        }
        if segments.count == 2, segments[0] == "apis", KindCatalog.groups.contains(segments[1]) {
            return Self.json(Discovery.group(segments[1]))
        }
        if segments.count == 3, segments[0] == "apis", let list = Discovery.resourceList(group: segments[1], version: segments[2]) {
            return Self.json(list)
        }
        guard let resource else { throw APIError.unknownPath }
        if resource.definition.computed {
            guard request.method == .get, !resource.watch, !query.flag("watch"), resource.subresource == nil else {
                throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
            let (labels, fields) = try filters(query, resource.definition)
            return Self.json(try await resourceMetrics.answer(resource, labels: labels, fields: fields))
        }
        if !resource.definition.stored {
            guard request.method == .post, resource.name == nil else {
                throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
            guard let body = try await body(of: request), body.objectValue != nil else {
                throw APIError.badRequest("the request body must be a JSON object")
            }
            try Self.checkTypeMeta(body, resource.definition)
            return Self.json(try reviews.answer(resource.definition, body: body, user: user), status: 201)
        }
        if resource.watch {
            guard request.method == .get else { throw APIError.methodNotAllowed("\(request.method) is not supported on \(path)") }
            return try await read(resource, query: query, table: TablePrinter.wantsTable(request.headers[.accept] ?? ""))
        }
        if resource.definition == .pod, let subresource = resource.subresource, Self.podStreamSubresources.contains(subresource) {
            return try podStream(resource, method: request.method, headers: request.headers, query: query, user: user)
        }
        switch request.method {
        case .get:
            return try await read(resource, query: query, table: TablePrinter.wantsTable(request.headers[.accept] ?? ""))
        case .post:
            return try await create(resource, body: try await body(of: request), query: query, user: user,
                                    manager: try Self.fieldManager(query: query, userAgent: request.headers[.userAgent]))
        case .put:
            return try update(resource, body: try await body(of: request), query: query, user: user,
                              manager: try Self.fieldManager(query: query, userAgent: request.headers[.userAgent]))
        case .patch:
            return try await patch(resource, body: try await body(of: request), contentType: request.headers[.contentType] ?? "", query: query, user: user,
                                   manager: try Self.fieldManager(query: query, userAgent: request.headers[.userAgent]))
        case .delete:
            return try delete(resource, body: try await body(of: request), query: query)
        default:
            throw APIError.methodNotAllowed("\(request.method) is not supported on \(path)")
        }
    }

    private func body(of request: Request) async throws -> JSONValue? {
        let contentType = request.headers[.contentType] ?? ""
        let protobuf = contentType.hasPrefix(KubernetesProtobuf.contentType)
        if contentType.contains("cbor") || (contentType.contains("protobuf") && !protobuf) {
            throw APIError(code: 415, reason: "UnsupportedMediaType",
                           message: "fair server accepts JSON and Kubernetes protobuf bodies, not \(contentType); write the object to a file and use kubectl create -f or kubectl apply -f")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Limits.requestBody {
            throw APIError.tooLarge("Request entity too large: limit is \(Limits.requestBody)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Limits.requestBody)
        } catch {
            throw APIError.tooLarge("Request entity too large: limit is \(Limits.requestBody)")
        }
        guard buffer.readableBytes > 0 else { return nil }
        if contentType.hasPrefix(ApplyBody.contentType) {
            return try ApplyBody.decode(Array(buffer.readableBytesView))
        }
        if protobuf {
            // kubectl's typed commands (`create token`, `auth can-i`) send protobuf.
            do {
                return try KubernetesProtobuf.decode(Array(buffer.readableBytesView))
            } catch let error as ProtobufBodyError {
                if case .unsupportedKind = error {
                    throw APIError(code: 415, reason: "UnsupportedMediaType", message: error.description)
                }
                throw APIError.badRequest(error.description)
            }
        }
        do {
            return try JSONCoding.decode(Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the request body is not valid JSON: \(error)")
        }
    }

    static func status(_ body: StatusBody) -> Response {
        var buffer = ByteBuffer(data: body.encoded())
        buffer.writeString("\n")
        return Response(status: HTTPResponse.Status(code: body.code), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: buffer))
    }

    static func json(_ value: JSONValue, status: Int = 200, contentType: String = "application/json") -> Response {
        json(encoded: JSONCoding.encode(value), status: status, contentType: contentType)
    }

    /// A JSON response of bytes already encoded (the store's, for an object just written).
    static func json(encoded: Data, status: Int = 200, contentType: String = "application/json") -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(encoded.count + 1)
        buffer.writeBytes(encoded)
        buffer.writeString("\n")
        return Response(status: HTTPResponse.Status(code: status), headers: [.contentType: contentType],
                        body: .init(byteBuffer: buffer))
    }

    /// Work queues of the loops running beside the API (controllers, scheduler): how far behind
    /// each is. Reported by whoever runs them; nil when nothing does.
    public var queueDepths: (@Sendable () -> [(queue: String, depth: Int)])? {
        get { lock.lock(); defer { lock.unlock() }; return depthSource }
        set { lock.lock(); depthSource = newValue; lock.unlock() }
    }

    private func queueGauges() -> String {
        guard let depths = queueDepths?() else { return "" }
        return "# TYPE fair_workqueue_depth gauge\n"
            + depths.map { "fair_workqueue_depth{name=\"\($0.queue)\"} \($0.depth)\n" }.joined()
    }

    private func metricsResponse() -> Response {
        let text = """
            # TYPE fair_apiserver_watchers gauge
            fair_apiserver_watchers \(store.watcherCount)
            # TYPE fair_apiserver_revision gauge
            fair_apiserver_revision \(store.currentRevision)
            # TYPE fair_apiserver_watch_window_events gauge
            fair_apiserver_watch_window_events \(store.windowUsage.events)
            # TYPE fair_apiserver_watch_window_bytes gauge
            fair_apiserver_watch_window_bytes \(store.windowUsage.bytes)

            """ + metrics.render() + queueGauges()
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
