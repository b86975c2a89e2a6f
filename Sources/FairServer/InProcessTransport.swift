import FairAPIServer
import FairArchive
import FairHTTP
import FairKube
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore

/// The bundled loops' way to the API: each request goes to the API server's handler in this
/// process, through its authentication, admission, store and watches as any client's would,
/// without TLS, sockets or HTTP framing. Callers block (as over HTTPS) while the handler runs
/// as a task; a watch's body streams into the caller's sink until either side ends it. Like
/// the HTTPS client, it is for threads of their own (informers, workers), never for code on
/// Swift's cooperative threads, which the handler's task needs.
public final class InProcessTransport: KubeTransport, @unchecked Sendable {
    private let api: APIServer
    private let user: UserInfo?

    /// `user`: who the caller is (the bundled node runs as its node); nil lets the request's
    /// own credential say, as over HTTPS.
    public init(api: APIServer, user: UserInfo? = nil) {
        self.api = api
        self.user = user
    }

    public func send(_ request: FairHTTP.HTTPRequest, sink: ByteSink?, maxBodyBytes: Int) throws -> FairHTTP.HTTPResponse {
        let head = try Self.head(of: request)
        let body: ByteBuffer
        switch request.body {
        case let .bytes(bytes): body = ByteBuffer(bytes: bytes)
        default: body = ByteBuffer()
        }
        let exchange = Exchange(sink: sink, maxBodyBytes: maxBodyBytes, url: request.url)
        let api = self.api, user = self.user
        let task = Task {
            do {
                var context = InProcessContext(source: InProcessSource(logger: Self.logger))
                context.inProcessUser = user
                let response = try await api.handle(Request(head: head, body: RequestBody(buffer: body)), context: context)
                exchange.started(response)
                try await response.body.write(InProcessBodyWriter(exchange: exchange))
                exchange.finish(nil)
            } catch {
                exchange.finish(error)
            }
        }
        defer { task.cancel() }
        return try exchange.wait()
    }

    private static let logger: Logger = {
        var logger = Logger(label: "fair.in-process")
        logger.logLevel = .critical
        return logger
    }()

    private static func head(of request: FairHTTP.HTTPRequest) throws -> HTTPTypes.HTTPRequest {
        guard let components = URLComponents(string: request.url), let method = HTTPTypes.HTTPRequest.Method(request.method) else {
            throw FairHTTP.HTTPError.invalidURL(request.url)
        }
        var path = components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        var fields = HTTPFields()
        for (name, value) in request.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        // What the HTTPS client sends: the server names the loops' writes after it (their field
        // manager), whichever way they come.
        if fields[.userAgent] == nil { fields[.userAgent] = HTTPClient.Configuration().userAgent }
        return HTTPTypes.HTTPRequest(method: method, scheme: "https", authority: "in-process", path: path, headerFields: fields)
    }
}

/// One request's answer, handed from the handler's task to the blocked caller. The body's bytes
/// are written into the caller's sink on the caller's thread, as libcurl does on its transfer
/// thread: a watch handler then never runs on (or blocks) Swift's cooperative threads. At most
/// `bufferLimit` bytes wait between the two; the handler's task is suspended beyond that.
final class Exchange: @unchecked Sendable {
    private static let bufferLimit = 4 << 20

    private let condition = NSCondition()
    private let sink: ByteSink?
    private let maxBodyBytes: Int
    private let url: String
    private var status = 0
    private var headers = HTTPHeaders()
    private var started = false
    private var pending: [ByteBuffer] = []
    private var pendingBytes = 0
    private var collectedBytes = 0
    private var collected: [UInt8] = []
    private var producerWaiting: CheckedContinuation<Void, Error>?
    private var refused: Error?
    private var done = false
    private var failure: Error?

    init(sink: ByteSink?, maxBodyBytes: Int, url: String) {
        self.sink = sink
        self.maxBodyBytes = maxBodyBytes
        self.url = url
    }

    func started(_ response: Response) {
        condition.lock(); defer { condition.unlock() }
        status = Int(response.status.code)
        for field in response.headers { headers.add(field.name.rawName, field.value) }
        started = true
        condition.broadcast()
    }

    private var streams: Bool { sink != nil && (200..<300).contains(status) }

    /// From the handler's task: queues bytes for the caller, waiting while too many are queued.
    func write(_ bytes: ByteBuffer) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            condition.lock()
            if let refused {
                condition.unlock()
                continuation.resume(throwing: refused)
                return
            }
            if !streams {
                collectedBytes += bytes.readableBytes
                if collectedBytes > maxBodyBytes {
                    condition.unlock()
                    continuation.resume(throwing: FairHTTP.HTTPError.bodyTooLarge(url: url, limit: maxBodyBytes))
                    return
                }
            }
            pending.append(bytes)
            pendingBytes += bytes.readableBytes
            condition.broadcast()
            if pendingBytes > Self.bufferLimit {
                producerWaiting = continuation  // resumed once the caller has taken the bytes
                condition.unlock()
            } else {
                condition.unlock()
                continuation.resume()
            }
        }
    }

    func finish(_ error: Error?) {
        condition.lock(); defer { condition.unlock() }
        guard !done else { return }
        done = true
        failure = error
        condition.broadcast()
    }

    /// On the caller's thread: hands the body to the sink (or collects it) until the handler ends.
    func wait() throws -> FairHTTP.HTTPResponse {
        condition.lock()
        while !started && !done { condition.wait() }
        if started, streams, let observer = sink as? ResponseHeadObserver {
            let status = self.status
            condition.unlock()
            observer.responseStarted(status: status)
            condition.lock()
        }
        while true {
            while pending.isEmpty && !done { condition.wait() }
            if pending.isEmpty && done { break }
            let chunks = pending
            pending = []
            pendingBytes = 0
            let producer = producerWaiting
            producerWaiting = nil
            let streaming = streams
            condition.unlock()
            producer?.resume()
            if streaming {
                do {
                    for chunk in chunks { try chunk.withUnsafeReadableBytes { try sink!.write($0) } }
                } catch {
                    // The reader has seen enough (a watch handler that returned false): the
                    // handler's next write fails, and its task ends.
                    condition.lock()
                    refused = error
                    let waiting = producerWaiting
                    producerWaiting = nil
                    condition.unlock()
                    waiting?.resume(throwing: error)
                    throw FairHTTP.HTTPError.sink(url: url, message: "\(error)")
                }
            } else {
                for chunk in chunks { collected.append(contentsOf: chunk.readableBytesView) }
            }
            condition.lock()
        }
        let failure = self.failure
        let response = FairHTTP.HTTPResponse(status: status, headers: headers, url: url, body: collected)
        condition.unlock()
        if let failure {
            if let error = failure as? FairHTTP.HTTPError { throw error }
            throw FairHTTP.HTTPError.transport(url: url, code: 0, message: "the API server's handler failed: \(failure)")
        }
        return response
    }
}

struct InProcessBodyWriter: ResponseBodyWriter {
    let exchange: Exchange

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await exchange.write(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

struct InProcessSource: RequestContextSource {
    var logger: Logger
}

struct InProcessContext: RequestContext, InProcessIdentityRequestContext {
    typealias Source = InProcessSource
    var coreContext: CoreRequestContextStorage
    var inProcessUser: UserInfo?

    init(source: InProcessSource) {
        coreContext = .init(source: source)
    }
}
