import FairHTTPServer
import FairKube
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import WSCore

/// Relays one upgraded stream (exec) between a client and the pod's node agent, message for
/// message, as kube-apiserver proxies a WebSocket exec to the kubelet. The node is offered the
/// subprotocol the client chose, so both ends frame alike and nothing is rewritten on the way.
/// The hop is TLS, trusting only the certificate the node published with its Node, with the
/// API server's client certificate: the same trust as the log relay.
struct PodStreamRelay: Sendable {
    let endpoint: NodeEndpoint
    let credential: NodeClientCredential
    /// The node's path and query.
    let target: String
    let subprotocol: StreamSubprotocol

    /// The largest message relayed (the Python client writes a whole stdin buffer as one).
    static let maximumMessage = 16 << 20

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async {
        do {
            var headers = HTTPFields()
            if let name = subprotocol.responseHeader { headers[.secWebSocketProtocol] = name }
            let client = PinnedWebSocketClient(
                host: endpoint.address, port: endpoint.port, target: target, pin: endpoint.pin, headers: headers,
                tls: try tlsConfiguration(), maximumFrame: Self.maximumMessage) { nodeInbound, nodeOutbound, _ in
                await withTaskGroup(of: Side?.self) { group in
                    group.addTask { await Self.copy(from: inbound, to: nodeOutbound); return .client }
                    group.addTask { await Self.copy(from: nodeInbound, to: outbound); return .node }
                    // Whichever side ends first has said all it will (the node closes after the
                    // status; a client that leaves takes the stream with it). The other side
                    // gets the close behind what was relayed, and the time to read it all and
                    // answer, as `PodStreamWebSocket.close` gives a peer.
                    let first = await group.next() ?? nil
                    try? await (first == .node ? outbound : nodeOutbound).close(.normalClosure, reason: nil)
                    group.addTask { try? await Task.sleep(for: PodStreamWebSocket.closeTimeout); return nil }
                    _ = await group.next()
                    group.cancelAll()
                }
            }
            try await client.run(logger: logger)
        } catch {
            let status = RemoteCommandStatus.internalError("error dialing backend: node \(endpoint.name) did not take the stream (\(error))")
            if let payload = status.payload(for: subprotocol) {
                try? await outbound.write(.binary(ByteBuffer(bytes: StreamChannel.frame(StreamChannel.error, payload))))
            }
        }
    }

    private enum Side { case client, node }

    private static func copy(from inbound: WebSocketInboundStream, to outbound: WebSocketOutboundWriter) async {
        var reader = WebSocketMessageReader(inbound, maximumSize: maximumMessage)
        while let message = try? await reader.next() {
            do { try await outbound.write(.binary(ByteBuffer(bytes: message))) } catch { return }
        }
    }

    private func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        // The pin is checked in the handshake (`PinnedWebSocketClient`); the chain and name are
        // not what identifies a node.
        tls.certificateVerification = .none
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(credential.certificateFile).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: credential.keyFile, format: .pem))
        tls.minimumTLSVersion = .tlsv12
        return tls
    }
}
