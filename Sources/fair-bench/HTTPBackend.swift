import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `fair-bench http-backend`: a minimal keep-alive HTTP/1.1 server answering every request with
/// the same small body, as fast as NIO allows. It stands in for a pod when measuring what the
/// service proxy adds (scripts/bench_serving.py): the backend should cost as little as possible,
/// so the difference between hitting it directly and through the proxy is the proxy.
enum HTTPBackend {
    static let usage = """
        usage: fair-bench http-backend [--host 127.0.0.1] [--port 0] [--body-bytes 64] [--work-us 0] [--threads N]
          --host ADDRESS      where to listen
          --port N            0 picks a free port; the chosen address is printed as "listening on HOST:PORT"
          --body-bytes N      size of every response body (request bodies are read and dropped)
          --work-us N         keep the CPU busy this many microseconds per request, as inference would
          --threads N         event loop threads (default: one per core)
        """

    static func main(_ arguments: [String]) -> Int32 {
        do {
            let parsed = try BenchArguments(arguments, switches: ["help"])
            if parsed.flag("help") {
                print(usage)
                return 0
            }
            try parsed.check(known: ["host", "port", "body-bytes", "work-us", "threads", "help"])
            let host = parsed.string("host") ?? "127.0.0.1"
            let port = try parsed.int("port", default: 0, range: 0...65535)
            let bodyBytes = try parsed.int("body-bytes", default: 64, range: 0...(64 << 20))
            let workMicroseconds = try parsed.int("work-us", default: 0, range: 0...10_000_000)
            let threads = try parsed.int("threads", default: System.coreCount, range: 1...256)
            try serve(host: host, port: port, bodyBytes: bodyBytes, workMicroseconds: workMicroseconds, threads: threads)
            return 0
        } catch let error as BenchArguments.Invalid {
            FileHandle.standardError.write(Data("fair-bench http-backend: \(error)\n\(usage)\n".utf8))
            return 2
        } catch {
            FileHandle.standardError.write(Data("fair-bench http-backend: \(error)\n".utf8))
            return 1
        }
    }

    private static func serve(host: String, port: Int, bodyBytes: Int, workMicroseconds: Int, threads: Int) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: bodyBytes)
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FixedResponder(body: body, workNanoseconds: UInt64(workMicroseconds) * 1000))
                }
            }
            .bind(host: host, port: port).wait()
        let address = channel.localAddress
        print("listening on \(address?.ipAddress ?? host):\(address?.port ?? port)")
        fflush(stdout)
        try channel.closeFuture.wait()
    }
}

/// Answers each request, once it has been read to the end, with the fixed body.
private final class FixedResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let body: ByteBuffer
    private let head: HTTPResponseHead
    private let workNanoseconds: UInt64
    private var keepAlive = true

    init(body: ByteBuffer, workNanoseconds: UInt64) {
        self.body = body
        self.workNanoseconds = workNanoseconds
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(request):
            keepAlive = request.isKeepAlive
        case .body:
            break
        case .end:
            if workNanoseconds > 0 { Self.spin(nanoseconds: workNanoseconds) }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [context] _ in context.close(promise: nil) }
            }
        }
    }

    /// Busy, not asleep: a model's forward pass occupies a core, and that is what competes with
    /// the proxy for CPU.
    private static func spin(nanoseconds: UInt64) {
        let deadline = DispatchTime.now().uptimeNanoseconds + nanoseconds
        while DispatchTime.now().uptimeNanoseconds < deadline {}
    }
}
