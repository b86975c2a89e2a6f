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
/// as a task; a watch's body streams into the caller's sink until either side ends it.
final class InProcessTransport: KubeTransport, @unchecked Sendable {
    private let api: APIServer

    init(api: APIServer) {
        self.api = api
    }

    func send(_ request: FairHTTP.HTTPRequest, sink: ByteSink?, maxBodyBytes: Int) throws -> FairHTTP.HTTPResponse {
        let head = try Self.head(of: request)
        let body: ByteBuffer
        switch request.body {
        case let .bytes(bytes): body = ByteBuffer(bytes: bytes)
        default: body = ByteBuffer()
        }
        let exchange = Exchange(sink: sink, maxBodyBytes: maxBodyBytes, url: request.url)
        let api = self.api
        let task = Task {
            do {
                let context = InProcessContext(source: InProcessSource(logger: Self.logger))
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
        return HTTPTypes.HTTPRequest(method: method, scheme: "https", authority: "in-process", path: path, headerFields: fields)
    }
}

/// One request's answer, handed from the handler's task to the blocked caller.
final class Exchange: @unchecked Sendable {
    private let condition = NSCondition()
    private let sink: ByteSink?
    private let maxBodyBytes: Int
    private let url: String
    private var status = 0
    private var headers = HTTPHeaders()
    private var collected: [UInt8] = []
    private var streaming = false
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
        streaming = sink != nil && (200..<300).contains(status)
        if streaming, let observer = sink as? ResponseHeadObserver { observer.responseStarted(status: status) }
    }

    /// Bytes of the body: into the sink for a 2xx with one (its error ends the exchange, as a
    /// reader hanging up ends a transfer), else collected up to the limit.
    func write(_ bytes: ByteBuffer) throws {
        condition.lock()
        let streaming = self.streaming
        condition.unlock()
        if streaming {
            try bytes.withUnsafeReadableBytes { try sink!.write($0) }
            return
        }
        condition.lock(); defer { condition.unlock() }
        guard collected.count + bytes.readableBytes <= maxBodyBytes else { throw FairHTTP.HTTPError.bodyTooLarge(url: url, limit: maxBodyBytes) }
        collected.append(contentsOf: bytes.readableBytesView)
    }

    func finish(_ error: Error?) {
        condition.lock(); defer { condition.unlock() }
        guard !done else { return }
        done = true
        failure = error
        condition.broadcast()
    }

    func wait() throws -> FairHTTP.HTTPResponse {
        condition.lock(); defer { condition.unlock() }
        while !done { condition.wait() }
        if let failure {
            if let error = failure as? FairHTTP.HTTPError { throw error }
            // The sink refused more (a watch handler that has seen enough): as libcurl reports it.
            throw FairHTTP.HTTPError.sink(url: url, message: "\(failure)")
        }
        return FairHTTP.HTTPResponse(status: status, headers: headers, url: url, body: collected)
    }
}

struct InProcessBodyWriter: ResponseBodyWriter {
    let exchange: Exchange

    mutating func write(_ buffer: ByteBuffer) async throws {
        try exchange.write(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

struct InProcessSource: RequestContextSource {
    var logger: Logger
}

struct InProcessContext: RequestContext {
    typealias Source = InProcessSource
    var coreContext: CoreRequestContextStorage

    init(source: InProcessSource) {
        coreContext = .init(source: source)
    }
}
