import Logging
import NIOCore
import NIOPosix

/// One accepted connection on a cluster IP: picks a ready endpoint of the Service's port in
/// turn, connects to it on the same event loop, and joins the two. An endpoint that refuses is
/// passed over (and avoided for a moment by later connections) while another is left; with no
/// endpoint left the client's connection is closed, as a Service without endpoints rejects.
struct ClusterIPForwarding {
    let table: EndpointTable
    let health: BackendHealth
    let logger: Logger
    static let connectTimeout: TimeAmount = .seconds(3)

    func forward(_ inbound: Channel, to target: ClusterIPListeners.Target) -> EventLoopFuture<Void> {
        let port = table.route(namespace: target.namespace, name: target.name)?.ports.first { $0.port == target.port }
        return connect(from: inbound, port: port, tried: []).flatMap { outbound in
            let (inboundGlue, outboundGlue) = TCPGlueHandler.matchedPair()
            return inbound.pipeline.addHandler(inboundGlue).flatMap {
                outbound.pipeline.addHandler(outboundGlue)
            }.flatMap {
                // Both start reading only now that each has somewhere to put what it reads.
                inbound.setOption(ChannelOptions.autoRead, value: true).flatMap {
                    outbound.setOption(ChannelOptions.autoRead, value: true)
                }
            }.flatMapError { error in
                outbound.close(promise: nil)
                return inbound.eventLoop.makeFailedFuture(error)
            }
        }.flatMapError { error in
            logger.debug("cluster IP \(target): \(error)")
            return inbound.close()
        }
    }

    private func connect(from inbound: Channel, port: RoutePort?, tried: [Backend]) -> EventLoopFuture<Channel> {
        guard let port, let backend = port.picker.pick(from: port.backends, excluding: tried, health: health),
              !tried.contains(backend) else {
            return inbound.eventLoop.makeFailedFuture(ClusterIPError.noEndpoint(tried: tried))
        }
        return ClientBootstrap(group: inbound.eventLoop)
            .connectTimeout(Self.connectTimeout)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connect(to: backend.socketAddress)
            .flatMapError { [health] error in
                health.markUnavailable(backend)
                return connect(from: inbound, port: port, tried: tried + [backend])
            }
    }
}

enum ClusterIPError: Error, CustomStringConvertible {
    case noEndpoint(tried: [Backend])

    var description: String {
        switch self {
        case let .noEndpoint(tried) where tried.isEmpty: "no ready endpoint"
        case let .noEndpoint(tried): "no endpoint accepted the connection (tried \(tried.map(\.description).joined(separator: ", ")))"
        }
    }
}
