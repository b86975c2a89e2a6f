import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The sockets a node listens on for Services: one per cluster IP and TCP port, kept equal to
/// what the endpoint table says by a level-triggered loop. Each change wakes the loop, which
/// binds what is wanted and not bound and closes what is bound and no longer wanted. A bind
/// that fails (the port is held by something else) is logged once and tried again later.
final class ClusterIPListeners: @unchecked Sendable {
    struct Address: Hashable, CustomStringConvertible {
        let ip: String
        let port: Int
        var description: String { "\(ip):\(port)" }
    }

    struct Target: Equatable, CustomStringConvertible {
        let namespace: String
        let name: String
        let port: Int
        var description: String { "\(namespace)/\(name):\(port)" }
    }

    private let group: EventLoopGroup
    private let forwarding: ClusterIPForwarding
    private let logger: Logger
    private let wanted = NIOLockedValueBox<[Address: Target]>([:])
    /// What is bound, and which failures were reported; under `lock`.
    private let lock = NIOLock()
    private var bound: [Address: Channel] = [:]
    private var reported: Set<Address> = []
    private let wakeups: AsyncStream<Void>.Continuation
    private var loop: Task<Void, Never>?
    static let retryInterval: TimeInterval = 5

    init(group: EventLoopGroup, forwarding: ClusterIPForwarding, logger: Logger) {
        self.group = group
        self.forwarding = forwarding
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeups = continuation
        loop = Task { [weak self] in
            for await _ in stream {
                guard let self else { return }
                await self.reconcile()
            }
        }
    }

    /// What the table says now: every cluster IP and port of every Service.
    func want(_ addresses: [Address: Target]) {
        wanted.withLockedValue { $0 = addresses }
        wakeups.yield()
    }

    /// The addresses listened on now (for tests and `/metrics`).
    var listening: Set<Address> { lock.withLock { Set(bound.keys) } }

    func stop() {
        wakeups.finish()
        loop?.cancel()
        let channels = lock.withLock { () -> [Channel] in
            defer { bound = [:] }
            return Array(bound.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    private func reconcile() async {
        let desired = wanted.withLockedValue { $0 }
        let current = lock.withLock { bound }
        for (address, channel) in current where desired[address] == nil {
            try? await channel.close()
            _ = lock.withLock { bound.removeValue(forKey: address) }
            logger.debug("cluster IP \(address) closed")
        }
        var failed = false
        for address in desired.keys where current[address] == nil {
            do {
                let channel = try await bind(address)
                lock.withLock {
                    bound[address] = channel
                    reported.remove(address)
                }
            } catch {
                failed = true
                let first = lock.withLock { reported.insert(address).inserted }
                if first { logger.warning("cannot listen on cluster IP \(address) for \(desired[address]!): \(error); trying again every \(Int(Self.retryInterval)) s") }
            }
        }
        if failed {
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(Self.retryInterval * 1e9))
                self?.wakeups.yield()
            }
        }
    }

    private func bind(_ address: Address) async throws -> Channel {
        let forwarding = self.forwarding, wanted = self.wanted
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Read at accept time: a Service whose port moved keeps its listener.
                guard let target = wanted.withLockedValue({ $0[address] }) else { return channel.close() }
                _ = forwarding.forward(channel, to: target)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: address.ip, port: address.port)
            .get()
    }
}
