import FairArchive
import FairHTTP
import Foundation

/// A client for one registry host, speaking the OCI distribution API. It authenticates the way
/// docker does (ping `/v2/`, then Basic or the Bearer token flow of the challenge), keeps tokens
/// per scope, and retries what is worth retrying. Thread-safe: blobs are pushed in parallel.
public final class RegistryClient: @unchecked Sendable {
    public let host: String
    public let endpoint: RegistryEndpoint
    let http: HTTPClient
    let credentials: Credentials?
    let retry: RetryPolicy
    let tokens = TokenCache()

    private let lock = NSLock()
    private var challenge: AuthChallenge?
    private var pinged = false

    /// Counters for reports and tests: bytes of blob data sent in request bodies.
    private var sent: Int64 = 0
    public var blobBytesSent: Int64 { lock.lock(); defer { lock.unlock() }; return sent }
    func countSent(_ bytes: Int64) { lock.lock(); sent += bytes; lock.unlock() }

    public init(host: String, credentials: Credentials?, http: HTTPClient, insecureHosts: Set<String> = RegistryEndpoint.insecureHostsFromEnvironment(),
                retry: RetryPolicy = RetryPolicy()) {
        self.host = host
        self.endpoint = RegistryEndpoint(host: host == RegistryReference.dockerHub ? "registry-1.docker.io" : host, insecureHosts: insecureHosts)
        self.http = http
        self.credentials = credentials
        self.retry = retry
    }

    func url(_ path: String) -> String { endpoint.baseURL + path }

    /// Learns how the registry wants to be authenticated before any body is sent, so a large
    /// upload is never wasted on a 401.
    func ping() throws {
        lock.lock()
        let done = pinged
        lock.unlock()
        if done { return }
        let response = try send(HTTPRequest(method: "GET", url: url("/v2/")), retrying: true)
        lock.lock()
        pinged = true
        if response.status == 401, let header = response.headers["WWW-Authenticate"] {
            challenge = AuthChallenge.parse(header)
        }
        lock.unlock()
        if response.status != 200 && response.status != 401 {
            throw RegistryError.response(status: response.status, method: "GET", url: url("/v2/"), codes: [], message: "not an OCI distribution registry?")
        }
    }

    /// Sends a request authorised for `scopes`. Transient failures are retried when `retrying` is
    /// set (uploads that stream a body restart at a higher level instead); a 401 is answered once
    /// by (re)authenticating. `makeSink` gives a fresh response sink for each attempt.
    func perform(_ request: HTTPRequest, scopes: [String], retrying: Bool = true,
                 makeSink: (() throws -> ByteSink)? = nil, maxBodyBytes: Int = 16 << 20,
                 progress: ((Int64, Int64) -> Void)? = nil) throws -> HTTPResponse {
        try ping()
        var reauthenticated = false
        while true {
            var authorised = request
            if let header = try authorization(for: scopes) { authorised.headers.set("Authorization", header) }
            let response = try send(authorised, retrying: retrying, makeSink: makeSink, maxBodyBytes: maxBodyBytes, progress: progress)
            if response.status == 401 && !reauthenticated {
                reauthenticated = true
                if let header = response.headers["WWW-Authenticate"], let fresh = AuthChallenge.parse(header) {
                    lock.lock(); challenge = fresh; lock.unlock()
                }
                tokens.invalidate(scopes)
                if try authorization(for: scopes) != nil { continue }
            }
            return response
        }
    }

    /// One request with retries for connection errors, 429 and 5xx.
    private func send(_ request: HTTPRequest, retrying: Bool, makeSink: (() throws -> ByteSink)? = nil,
                      maxBodyBytes: Int = 16 << 20, progress: ((Int64, Int64) -> Void)? = nil, http: HTTPClient? = nil) throws -> HTTPResponse {
        let http = http ?? self.http
        let attempts = retrying ? retry.maxAttempts : 1
        var attempt = 0
        while true {
            do {
                let response = try http.send(request, sink: try makeSink?(), maxBodyBytes: maxBodyBytes, progress: progress)
                if RetryPolicy.retryableStatuses.contains(response.status) && attempt + 1 < attempts {
                    Thread.sleep(forTimeInterval: retry.delay(attempt: attempt, retryAfter: response.headers["Retry-After"]))
                    attempt += 1
                    continue
                }
                return response
            } catch let error as HTTPError {
                if error.isRetryable && attempt + 1 < attempts {
                    Thread.sleep(forTimeInterval: retry.delay(attempt: attempt))
                    attempt += 1
                    continue
                }
                throw RegistryError.unreachable(host: host, detail: error.description)
            }
        }
    }

    /// The Authorization header for `scopes`, fetching a token when the registry uses Bearer.
    private func authorization(for scopes: [String]) throws -> String? {
        lock.lock()
        let current = challenge
        lock.unlock()
        guard let current else { return nil }
        if current.isBasic {
            guard let credentials else { return nil }
            try refuseInClear(credentials, to: url("/v2/"))
            return credentials.basicHeader
        }
        guard current.isBearer, let realm = credentials?.tokenEndpoint ?? current.realm else { return nil }
        if let token = tokens.token(for: scopes) { return "Bearer \(token)" }
        let token = try fetchToken(realm: realm, service: current.service, scopes: scopes)
        return "Bearer \(token)"
    }

    func fetchTokenForLogin(realm: String, service: String?) throws -> String {
        try fetchToken(realm: realm, service: service, scopes: [])
    }

    /// Credentials that must not cross the network in clear are never sent to a plain-HTTP URL.
    private func refuseInClear(_ credentials: Credentials, to target: String) throws {
        if credentials.sendsOnlyOverTLS && !target.lowercased().hasPrefix("https://") {
            throw RegistryError.unauthorized(host: host, detail: "the credential for \(host) is sent only over TLS, and the registry asked for it at \(target)")
        }
    }

    /// The client for token requests: the registry's own, or one that trusts the roots the
    /// credentials name (a cluster's CA, for the token endpoint on its API port).
    private lazy var tokenHTTP: HTTPClient = {
        guard let file = credentials?.tokenServerCAFile else { return http }
        var configuration = http.configuration
        configuration.caFile = file
        return HTTPClient(configuration: configuration)
    }()

    private func fetchToken(realm: String, service: String?, scopes: [String]) throws -> String {
        var components = URLComponents(string: realm)
        var query = components?.queryItems ?? []
        if let service { query.append(URLQueryItem(name: "service", value: service)) }
        for scope in scopes { query.append(URLQueryItem(name: "scope", value: scope)) }
        components?.queryItems = query.isEmpty ? nil : query
        guard let tokenURL = components?.string else {
            throw RegistryError.protocolViolation("token realm \"\(realm)\" is not a URL")
        }
        var headers = HTTPHeaders()
        if let credentials {
            try refuseInClear(credentials, to: tokenURL)
            headers.set("Authorization", credentials.basicHeader)
        }
        lock.lock()
        let tokenHTTP = self.tokenHTTP
        lock.unlock()
        let response = try send(HTTPRequest(method: "GET", url: tokenURL, headers: headers), retrying: true, http: tokenHTTP)
        switch response.status {
        case 200:
            break
        case 401, 403:
            if credentials != nil { throw RegistryError.wrongCredentials(host: host) }
            throw RegistryError.unauthorized(host: host, detail: RegistryErrorBody.decode(response.body).message)
        default:
            let decoded = RegistryErrorBody.decode(response.body)
            throw RegistryError.response(status: response.status, method: "GET", url: realm, codes: decoded.codes, message: decoded.message)
        }
        struct TokenResponse: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Double?
        }
        guard let body = try? JSONDecoder().decode(TokenResponse.self, from: Data(response.body)),
              let token = body.token ?? body.access_token, !token.isEmpty else {
            throw RegistryError.protocolViolation("the token server at \(realm) answered without a token")
        }
        tokens.store(token, for: scopes, expiresIn: body.expires_in ?? 60)
        return token
    }

    /// Turns an unsuccessful response into the error a user can act on.
    func failure(_ response: HTTPResponse, method: String, repository: String, action: String, what: String) -> RegistryError {
        let decoded = RegistryErrorBody.decode(response.body)
        switch response.status {
        case 401:
            if credentials == nil { return .unauthorized(host: host, detail: decoded.message) }
            lock.lock()
            let basic = challenge?.isBasic ?? false
            lock.unlock()
            // With Basic auth the credentials themselves were refused; with tokens, a 401 after a
            // token was issued for them means the token does not grant this action.
            if basic { return .wrongCredentials(host: host) }
            return .denied(repository: "\(host)/\(repository)", action: action, detail: decoded.message)
        case 403:
            return .denied(repository: "\(host)/\(repository)", action: action, detail: decoded.message)
        case 404:
            return .notFound(what: what)
        default:
            return .response(status: response.status, method: method, url: response.url, codes: decoded.codes, message: decoded.message)
        }
    }

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }
}

extension RegistryClient {
    /// Checks the credentials as `docker login` does: the registry (or its token server) must
    /// accept them for `/v2/`.
    public func verifyLogin() throws {
        guard credentials != nil else { throw RegistryError.unauthorized(host: host, detail: "no credentials given") }
        try ping()
        lock.lock()
        let current = challenge
        lock.unlock()
        guard let current else { return }  // the registry wants no authentication at all
        if current.isBearer, let realm = credentials?.tokenEndpoint ?? current.realm {
            _ = try fetchTokenForLogin(realm: realm, service: current.service)
            return
        }
        var headers = HTTPHeaders()
        try refuseInClear(credentials!, to: url("/v2/"))
        headers.set("Authorization", credentials!.basicHeader)
        let response = try http.send(HTTPRequest(method: "GET", url: url("/v2/"), headers: headers))
        if response.status == 401 { throw RegistryError.wrongCredentials(host: host) }
        guard response.status == 200 else {
            throw failure(response, method: "GET", repository: "", action: "login", what: "/v2/")
        }
    }
}
