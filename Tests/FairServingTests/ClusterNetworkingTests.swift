import FairKube
@testable import FairServing
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

final class ClusterNetworkingTests: XCTestCase {
    func testDNSRecordsForClusterIPHeadlessAndExternalNameServices() {
        let records = ClusterDNSRecords(domain: "cluster.local")
        var service = Objects.service("model", namespace: "ml")
        service.set("127.96.1.7", at: "spec.clusterIP")
        XCTAssertEqual(records.hostsFile(for: ServiceRoute(service: service, endpoints: nil)),
                       "127.96.1.7\tmodel.ml.svc.cluster.local\n")

        var headless = Objects.service("workers", namespace: "ml")
        headless.set("None", at: "spec.clusterIP")
        let endpoints: JSONValue = ["metadata": ["name": "workers", "namespace": "ml"], "subsets": [
            ["addresses": [["ip": "127.20.0.4", "hostname": "ring-0"], ["ip": "127.20.0.5"]],
             "notReadyAddresses": [["ip": "127.20.0.9", "hostname": "ring-9"]]],
        ]]
        XCTAssertEqual(records.hostsFile(for: ServiceRoute(service: headless, endpoints: endpoints)), """
            127.20.0.4\tworkers.ml.svc.cluster.local
            127.20.0.4\tring-0.workers.ml.svc.cluster.local
            127.20.0.5\tworkers.ml.svc.cluster.local

            """, "not-ready addresses are not published")

        var external = Objects.service("db")
        external.set("ExternalName", at: "spec.type")
        external.set("db.example.com", at: "spec.externalName")
        let externalRoute = ServiceRoute(service: external, endpoints: nil)
        XCTAssertEqual(externalRoute.externalName, "db.example.com")
        XCTAssertEqual(records.hostsFile(for: externalRoute), "")
        XCTAssertEqual(records.hostsFile(for: externalRoute, externalAddresses: ["192.0.2.1", "2001:db8::1"]),
                       "192.0.2.1\tdb.default.svc.cluster.local\n2001:db8::1\tdb.default.svc.cluster.local\n")
        XCTAssertEqual(ClusterDNSRecords.fileName(namespace: "ml", name: "model"), "ml_model")
    }

    func testAnExternalNameIsResolvedByTheHostAndForgottenWithItsService() {
        XCTAssertTrue(ExternalNames.resolve("localhost").contains("127.0.0.1"))
        XCTAssertEqual(ExternalNames.resolve("no-such-name.invalid"), [])
        let names = ExternalNames()
        let published = expectation(description: "published")
        names.track("default_db", name: "localhost") { addresses in
            XCTAssertTrue(addresses.contains("127.0.0.1"))
            published.fulfill()
        }
        wait(for: [published], timeout: 10)
        names.forget("default_db")
    }

    func testEveryClusterIPPortIsListenedOnAndHeadlessOnesAreNot() {
        var first = Objects.service("a", ports: [["name": "http", "port": 80], ["name": "grpc", "port": 9000]])
        first.set("127.96.1.1", at: "spec.clusterIP")
        var headless = Objects.service("b")
        headless.set("None", at: "spec.clusterIP")
        let addresses = NodeServiceProxy.addresses([ServiceRoute(service: first, endpoints: nil), ServiceRoute(service: headless, endpoints: nil)])
        XCTAssertEqual(Set(addresses.keys.map(\.description)), ["127.96.1.1:80", "127.96.1.1:9000"])
        XCTAssertEqual(addresses[.init(ip: "127.96.1.1", port: 9000)], .init(namespace: "default", name: "a", port: 9000))
    }

    /// A cluster IP forwards bytes both ways, a half-close included, with back-pressure over a
    /// transfer far larger than any buffer; it follows the table as it changes.
    func testAClusterIPForwardsToItsEndpointsAndFollowsTheTable() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let echo = try await EchoServer.start(group: group)
        defer { echo.close() }
        let table = EndpointTable()
        let clusterIP = "127.250.\(Int.random(in: 0...255)).\(Int.random(in: 1...254))"
        let port = Int.random(in: 20000...40000)
        var service = Objects.service("echo", ports: [["name": "tcp", "port": .int(Int64(port))]])
        service.set(.string(clusterIP), at: "spec.clusterIP")
        table.update(namespace: "default", name: "echo", service: service,
                     endpoints: Objects.endpoints("echo", ready: [("127.0.0.1", echo.port)], portName: "tcp"))
        let listeners = ClusterIPListeners(group: group, forwarding: ClusterIPForwarding(table: table, health: BackendHealth(),
                                                                                          logger: Logger(label: "test")), logger: Logger(label: "test"))
        defer { listeners.stop() }
        listeners.want(NodeServiceProxy.addresses(table.allRoutes()))
        try await waitUntil { listeners.listening.count == 1 }

        var payload = [UInt8](repeating: 0, count: 8 << 20)
        for index in payload.indices { payload[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
        let received = try Self.exchange(host: clusterIP, port: port, payload: payload)
        XCTAssertEqual(received.count, payload.count)
        XCTAssertTrue(received == payload, "the bytes came back changed")

        // A client that reads only after it has sent everything: the backend has ended its
        // stream long before the proxy has written the last of it to the client.
        let late = try Self.exchange(host: clusterIP, port: port, payload: payload, readingAfterSending: true)
        XCTAssertEqual(late.count, payload.count, "the end of the stream was cut off")
        XCTAssertTrue(late == payload, "the bytes came back changed")

        // No endpoint left: accepted and closed at once.
        table.update(namespace: "default", name: "echo", service: service, endpoints: nil)
        XCTAssertEqual(try Self.exchange(host: clusterIP, port: port, payload: Array("hello".utf8)), [])

        // The Service gone: nothing listens.
        table.update(namespace: "default", name: "echo", service: nil, endpoints: nil)
        listeners.want(NodeServiceProxy.addresses(table.allRoutes()))
        try await waitUntil { listeners.listening.isEmpty }
        XCTAssertThrowsError(try Self.exchange(host: clusterIP, port: port, payload: [1]))
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertTrue(condition())
    }

    /// Connects, writes `payload` from another thread, half-closes, and reads until the far side
    /// closes; with `readingAfterSending`, reading starts only a moment after the last byte is sent.
    static func exchange(host: String, port: Int, payload: [UInt8], readingAfterSending: Bool = false) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let sent = DispatchSemaphore(value: 0)
        let writer = Thread {
            var offset = 0
            while offset < payload.count {
                let written = payload[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written <= 0 { break }
                offset += written
            }
            shutdown(fd, Int32(SHUT_WR))
            sent.signal()
        }
        writer.start()
        if readingAfterSending {
            sent.wait()
            Thread.sleep(forTimeInterval: 0.3)
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return received
    }
}

/// Writes back what it reads; ends its output when the client ends its own.
final class EchoServer {
    let channel: Channel
    private let connections: NIOLockedValueBox<Int>
    var port: Int { channel.localAddress?.port ?? 0 }
    /// Connections accepted so far.
    var accepted: Int { connections.withLockedValue { $0 } }

    private init(channel: Channel, connections: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.connections = connections
    }

    static func start(group: EventLoopGroup) async throws -> EchoServer {
        let connections = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                connections.withLockedValue { $0 += 1 }
                return channel.pipeline.addHandler(Echo())
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return EchoServer(channel: channel, connections: connections)
    }

    func close() { channel.close(promise: nil) }

    private final class Echo: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
        func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            // Ends its output once what it echoed is written: closing at once would drop it.
            if let event = event as? ChannelEvent, case .inputClosed = event {
                let channel = context.channel
                context.writeAndFlush(NIOAny(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                    channel.close(mode: .output, promise: nil)
                }
            }
        }
    }
}
