import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A pod stand-in: an HTTP/1.1 server on a loopback address, written against NIO so it can also
/// misbehave the ways pods do (close kept-alive connections, die mid-response, send garbage).
/// What it does depends on the request path; see `BackendBehaviour`.
final class TestBackend: @unchecked Sendable {
    struct Options {
        /// Close every connection shortly after answering on it, without saying so in the
        /// response (as a server whose keep-alive timeout is very short does).
        var closeAfterResponse = false
    }

    struct Statistics {
        var connections = 0
        var requests = 0
        /// Requests on a reused connection that `/unanswered-on-reuse` dropped.
        var unanswered = 0
        var lastHeaders: [(String, String)] = []
    }

    let name: String
    let host: String
    let port: Int
    let statistics: NIOLockedValueBox<Statistics>
    let gate: Gate
    private let channel: Channel

    var address: String { "\(host):\(port)" }

    static func start(name: String, host: String = "127.0.0.1", options: Options = Options()) async throws -> TestBackend {
        let statistics = NIOLockedValueBox(Statistics())
        let gate = Gate()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                statistics.withLockedValue { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
                    try channel.pipeline.syncOperations.addHandler(
                        BackendBehaviour(name: name, options: options, statistics: statistics, gate: gate))
                }
            }
            .bind(host: host, port: 0).get()
        return TestBackend(name: name, host: host, port: channel.localAddress?.port ?? 0, statistics: statistics, gate: gate, channel: channel)
    }

    private init(name: String, host: String, port: Int, statistics: NIOLockedValueBox<Statistics>, gate: Gate, channel: Channel) {
        self.name = name
        self.host = host
        self.port = port
        self.statistics = statistics
        self.gate = gate
        self.channel = channel
    }

    func stop() async {
        try? await channel.close()
    }

    /// A port on `host` that nothing listens on: bound, then closed again.
    static func closedPort(host: String = "127.0.0.1") async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: host, port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}

/// Holds back the second half of `/stream` until the test has seen the first half arrive.
final class Gate: @unchecked Sendable {
    private let lock = NIOLock()
    private var opened = false
    private var waiters: [(Bool) -> Void] = []

    func open() {
        let pending: [(Bool) -> Void] = lock.withLock {
            opened = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in pending { waiter(true) }
    }

    /// Calls `then(true)` once opened, or `then(false)` after `timeout`, on `loop`.
    func whenOpened(on loop: EventLoop, timeout: TimeAmount, _ then: @escaping (Bool) -> Void) {
        let once = NIOLockedValueBox(false)
        let fire: (Bool) -> Void = { value in
            let first = once.withLockedValue { fired -> Bool in
                defer { fired = true }
                return !fired
            }
            if first { loop.execute { then(value) } }
        }
        let alreadyOpen: Bool = lock.withLock {
            if !opened { waiters.append(fire) }
            return opened
        }
        if alreadyOpen { fire(true) }
        loop.scheduleTask(in: timeout) { fire(false) }
    }
}

/// What the stand-in pod does, by path:
/// - `/who`: its name.
/// - `/echo…`: the request as JSON (method, target, headers, body).
/// - `/upload`: the body's length and a checksum.
/// - `/hop`: a response carrying hop-by-hop headers.
/// - `/stream`: `first`, then `second` once the gate opens (`late` if it never does).
/// - `/big?n=N`: N bytes in 64 KiB writes.
/// - `/unanswered-on-reuse`: answered on a new connection, dropped unanswered on a reused one.
/// - `/half-head`: half a response head, then a close.
/// - `/truncated`: a head promising 100 bytes, 10 bytes, then a close.
/// - `/no-content`: 204.
private final class BackendBehaviour: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let name: String
    let options: TestBackend.Options
    let statistics: NIOLockedValueBox<TestBackend.Statistics>
    let gate: Gate
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var bodyLength = 0
    private var checksum: UInt32 = 0
    private var requestsOnConnection = 0
    private var dropped = false

    init(name: String, options: TestBackend.Options, statistics: NIOLockedValueBox<TestBackend.Statistics>, gate: Gate) {
        self.name = name
        self.options = options
        self.statistics = statistics
        self.gate = gate
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !dropped else { return }
        switch unwrapInboundIn(data) {
        case let .head(requestHead):
            head = requestHead
            body = []
            bodyLength = 0
            checksum = 0
            requestsOnConnection += 1
            let headers = requestHead.headers.map { ($0.name, $0.value) }
            statistics.withLockedValue {
                $0.requests += 1
                $0.lastHeaders = headers
            }
            if requestHead.uri.hasPrefix("/unanswered-on-reuse") && requestsOnConnection > 1 {
                statistics.withLockedValue { $0.unanswered += 1 }
                dropped = true
                context.close(promise: nil)
            } else if requestHead.uri.hasPrefix("/half-head") {
                dropped = true
                writeRaw("HTTP/1.1 200 OK\r\nContent-Le", context: context)
                context.close(promise: nil)
            }
        case var .body(part):
            bodyLength += part.readableBytes
            if let bytes = part.readBytes(length: part.readableBytes) {
                for byte in bytes { checksum = checksum &* 31 &+ UInt32(byte) }
                if body.count < 4096 { body.append(contentsOf: bytes.prefix(4096 - body.count)) }
            }
        case .end:
            guard let head else { return }
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch path {
        case "/who":
            reply(name, context: context)
        case "/upload":
            reply("\(bodyLength) \(checksum)", context: context)
        case "/hop":
            reply("hop", headers: [("Connection", "X-Secret"), ("X-Secret", "1"), ("Keep-Alive", "timeout=5"),
                                   ("Proxy-Authenticate", "Basic"), ("X-Kept", "yes")], context: context)
        case "/stream":
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "first\n")))), promise: nil)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            gate.whenOpened(on: context.eventLoop, timeout: .seconds(5)) { [self] opened in
                let context = loopBound.value
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: opened ? "second\n" : "late\n")))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        case "/big":
            let count = Int(head.uri.split(separator: "=").last ?? "") ?? 0
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            var remaining = count
            while remaining > 0 {
                let size = min(remaining, 64 << 10)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(repeating: UInt8(ascii: "x"), count: size)))), promise: nil)
                remaining -= size
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case "/truncated":
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "100")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "0123456789")))), promise: nil)
            context.close(promise: nil)
        case "/no-content":
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .noContent))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        default:
            if path.hasPrefix("/echo") || path.hasPrefix("/unanswered-on-reuse") {
                reply(echo(head), headers: [("Content-Type", "application/json")], context: context)
            } else {
                reply("no such path \(path)", status: .notFound, context: context)
            }
        }
    }

    private func echo(_ head: HTTPRequestHead) -> String {
        let object: [String: Any] = [
            "backend": name,
            "method": head.method.rawValue,
            "target": head.uri,
            "headers": head.headers.map { [$0.name, $0.value] },
            "body": String(decoding: body, as: UTF8.self),
            "bodyLength": bodyLength,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    private func reply(_ text: String, status: HTTPResponseStatus = .ok, headers extra: [(String, String)] = [],
                       context: ChannelHandlerContext) {
        var headers = HTTPHeaders(extra)
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: "X-Backend", value: name)
        let isHead = self.head?.method == .HEAD
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !isHead { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if options.closeAfterResponse {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(20)) { loopBound.value.close(promise: nil) }
        }
    }

    /// Bytes straight to the socket, past the response encoder.
    private func writeRaw(_ text: String, context: ChannelHandlerContext) {
        guard let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else { return }
        encoder.writeAndFlush(NIOAny(ByteBuffer(string: text)), promise: nil)
    }
}
