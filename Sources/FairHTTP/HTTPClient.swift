import FairArchive
import Foundation
internal import CCurl

/// An HTTP/1.1 and HTTP/2 client over libcurl. Keeps a pool of libcurl handles so keep-alive
/// connections are reused across requests and threads. Follows redirects itself (libcurl's
/// following is off) so it decides what happens to the method, the body and credentials.
public final class HTTPClient: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Double = 30          // seconds
        /// Abort when slower than 1 byte/s for this long (never a total timeout: blobs can be huge).
        public var stallTimeout: Double = 60
        /// CA bundle; default: $SSL_CERT_FILE if set, else libcurl's default.
        public var caFile: String?
        public var userAgent: String = "fair"
        /// Redirects followed for one request; 0 returns redirect responses as they are.
        public var maxRedirects: Int = 10
        /// Off only when a kubeconfig says `insecure-skip-tls-verify: true`.
        public var verifiesServer = true
        /// PEM files of a client certificate and its key, for servers that authenticate by certificate.
        public var clientCertificateFile: String?
        public var clientKeyFile: String?
        /// `sha256//BASE64` of the one public key the server may present (libcurl's
        /// `CURLOPT_PINNEDPUBLICKEY`); checked whether or not `verifiesServer` is on.
        public var pinnedPublicKey: String?
        public init() {}
    }

    public let configuration: Configuration
    private let caFile: String?

    // Idle handles, most recently used last. Guarded by `lock`.
    private let lock = NSLock()
    private var idleHandles: [CurlEasy] = []
    private static let maxIdleHandles = 16

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        if let file = configuration.caFile {
            caFile = file
        } else if let file = ProcessInfo.processInfo.environment["SSL_CERT_FILE"], !file.isEmpty {
            caFile = file
        } else {
            caFile = nil
        }
        _ = CurlGlobal.initResult
    }

    /// Performs the request. The response body streams into `sink` when given (for 2xx only —
    /// for other statuses the body is kept in `response.body` so error JSON can be decoded), else
    /// it is collected into `response.body` up to `maxBodyBytes` (HTTPError.bodyTooLarge beyond).
    /// The sink is not finished: that is up to the caller, once it has checked the response.
    /// `progress` is called with (bytes sent so far, bytes received so far) from the calling thread.
    /// Thread-safe: many threads may call send at once (parallel blob uploads).
    public func send(_ request: HTTPRequest, sink: ByteSink? = nil, maxBodyBytes: Int = 16 << 20,
                     progress: ((Int64, Int64) -> Void)? = nil) throws -> HTTPResponse {
        let origin = try CurlURL.origin(of: request.url)
        let credentials = RedirectPolicy.credentialHeaders.flatMap { name in
            request.headers.values(name).map { (name, $0) }
        }
        let easy = try checkOut()
        defer { checkIn(easy) }

        var current = request
        var redirects = 0
        while true {
            let response = try perform(current, on: easy, sink: sink, maxBodyBytes: maxBodyBytes, progress: progress)
            guard configuration.maxRedirects > 0,
                  var next = try RedirectPolicy.nextRequest(after: response, to: current)
            else { return response }
            redirects += 1
            if redirects > configuration.maxRedirects { throw HTTPError.tooManyRedirects(url: request.url) }
            // Credentials go only to the server they were meant for (and come back with it).
            for name in RedirectPolicy.credentialHeaders { next.headers.remove(name) }
            if try CurlURL.origin(of: next.url) == origin {
                for (name, value) in credentials { next.headers.add(name, value) }
            }
            current = next
        }
    }

    // MARK: - One exchange

    private func perform(_ request: HTTPRequest, on easy: CurlEasy, sink: ByteSink?, maxBodyBytes: Int,
                         progress: ((Int64, Int64) -> Void)?) throws -> HTTPResponse {
        try easy.reset(url: request.url)
        let source = request.body.isEmpty ? nil : try RequestBodySource(request.body)
        let context = TransferContext(url: request.url, sink: sink, maxBodyBytes: maxBodyBytes,
                                      source: source, progress: progress)
        let headerList = CurlStringList()

        try easy.set(CURLOPT_URL, request.url)
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try easy.set(CURLOPT_NOSIGNAL, true)
        try easy.set(CURLOPT_FOLLOWLOCATION, false)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int((configuration.connectTimeout * 1000).rounded(.up)))
        try easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        try easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(configuration.stallTimeout.rounded(.up))))
        try easy.set(CURLOPT_TCP_KEEPALIVE, true)
        try easy.set(CURLOPT_SSL_VERIFYPEER, configuration.verifiesServer)
        try easy.set(CURLOPT_SSL_VERIFYHOST, configuration.verifiesServer ? 2 : 0)
        if let caFile { try easy.set(CURLOPT_CAINFO, caFile) }
        if let certificate = configuration.clientCertificateFile {
            try easy.set(CURLOPT_SSLCERT, certificate)
            try easy.set(CURLOPT_SSLCERTTYPE, "PEM")
        }
        if let pin = configuration.pinnedPublicKey { try easy.set(CURLOPT_PINNEDPUBLICKEY, pin) }
        if let key = configuration.clientKeyFile {
            try easy.set(CURLOPT_SSLKEY, key)
            try easy.set(CURLOPT_SSLKEYTYPE, "PEM")
        }
        try easy.set(CURLOPT_USERAGENT, configuration.userAgent)
        // A tuning hint only: libcurl refuses to resize the receive buffer of a handle that still
        // holds one, which is the case after a failed transfer; the handle must stay usable then.
        try? easy.set(CURLOPT_BUFFERSIZE, 256 << 10)

        if let source {
            try easy.set(CURLOPT_UPLOAD, true)
            try easy.set(CURLOPT_UPLOAD_BUFFERSIZE, 256 << 10)
            try easy.set(CURLOPT_CUSTOMREQUEST, request.method)
            try easy.set(CURLOPT_INFILESIZE_LARGE, offset: source.size)
            try easy.set(CURLOPT_READFUNCTION, read: CurlCallbacks.read)
            try easy.set(CURLOPT_READDATA, pointer: context.opaque)
            try easy.set(CURLOPT_SEEKFUNCTION, seek: CurlCallbacks.seek)
            try easy.set(CURLOPT_SEEKDATA, pointer: context.opaque)
        } else if request.method == "HEAD" {
            try easy.set(CURLOPT_NOBODY, true)
        } else if request.method == "GET" {
            try easy.set(CURLOPT_HTTPGET, true)
        } else {
            try easy.set(CURLOPT_CUSTOMREQUEST, request.method)
            if !request.headers.contains("Content-Length") { try headerList.append("Content-Length: 0") }
        }

        for (name, value) in request.headers {
            // "Name:" would remove a header libcurl adds itself; "Name;" sends it with an empty value.
            try headerList.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        // No "Expect: 100-continue": it costs a round trip (or a one-second wait) per upload.
        try headerList.append("Expect:")
        try easy.set(CURLOPT_HTTPHEADER, list: headerList)

        try easy.set(CURLOPT_WRITEFUNCTION, write: CurlCallbacks.write)
        try easy.set(CURLOPT_WRITEDATA, pointer: context.opaque)
        try easy.set(CURLOPT_HEADERFUNCTION, header: CurlCallbacks.header)
        try easy.set(CURLOPT_HEADERDATA, pointer: context.opaque)
        if progress != nil {
            try easy.set(CURLOPT_NOPROGRESS, false)
            try easy.set(CURLOPT_XFERINFOFUNCTION, xferinfo: CurlCallbacks.transferInfo)
            try easy.set(CURLOPT_XFERINFODATA, pointer: context.opaque)
        }

        let code = withExtendedLifetime((context, headerList)) { easy.perform() }
        if let error = context.error { throw error }
        try easy.check(code)
        let status = try easy.info(CURLINFO_RESPONSE_CODE)
        return HTTPResponse(status: status, headers: context.headers, url: request.url, body: context.body)
    }

    // MARK: - Handle pool

    private func checkOut() throws -> CurlEasy {
        lock.lock()
        let easy = idleHandles.popLast()
        lock.unlock()
        return try easy ?? CurlEasy()
    }

    private func checkIn(_ easy: CurlEasy) {
        lock.lock()
        defer { lock.unlock() }
        if idleHandles.count < Self.maxIdleHandles { idleHandles.append(easy) }
    }
}
