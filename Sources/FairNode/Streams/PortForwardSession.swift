import FairHTTPServer
import FairKube
import Foundation
import NIOCore
import WSCore
#if canImport(Glibc)
import Glibc
#endif

/// Port-forward over WebSocket as kubelet serves it (`portforward/websocket.go`), the protocol
/// of the Python client and kr8s: for the i-th port asked for, channel 2i carries data both ways
/// and 2i+1 errors from the node; each channel's first message is the port, little-endian. Each
/// port gets one connection to the pod, made at once; the stream ends when every connection has
/// ended, or when the client leaves (which closes them all). WebSocket has no half-close, so a
/// connection closes in both directions together.
struct PortForwardSession {
    let podIP: String
    let ports: [UInt16]
    let podName: String
    let podUID: String

    static let chunkSize = 32 * 1024

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        for (index, port) in ports.enumerated() {
            for channel in [UInt8(2 * index), UInt8(2 * index + 1)] {
                try? await outbound.write(.binary(ByteBuffer(bytes: [channel, UInt8(port & 0xff), UInt8(port >> 8)])))
            }
        }
        var connections: [PodConnection] = []
        for (index, port) in ports.enumerated() {
            do {
                connections.append(try PodConnection(address: podIP, port: port, channel: UInt8(2 * index)))
            } catch {
                let message = "error forwarding port \(port) to pod \(podName), uid \(podUID): \(error)"
                try? await outbound.write(.binary(ByteBuffer(bytes: StreamChannel.frame(UInt8(2 * index + 1), Array(message.utf8)))))
            }
        }
        guard !connections.isEmpty else {
            // Only errors to tell: the client reads them before it answers the close.
            let input = Task {
                var reader = WebSocketMessageReader(inbound, maximumSize: ExecSession.maximumMessage)
                while (try? await reader.next()) != nil {}
            }
            await PodStreamWebSocket.close(outbound, after: input)
            return
        }
        let pumps = connections.map { OutputPump(descriptor: $0.socket, closesWhenDone: false, channel: $0.channel, outbound: outbound) }
        for pump in pumps { pump.start() }
        let input = Task { await forwardInput(inbound, to: connections) }
        for pump in pumps { await pump.finished() }
        await PodStreamWebSocket.close(outbound, after: input)
        for connection in connections { connection.close() }
    }

    /// Client messages on a data channel go to that port's connection; the rest are dropped.
    private func forwardInput(_ inbound: WebSocketInboundStream, to connections: [PodConnection]) async {
        var reader = WebSocketMessageReader(inbound, maximumSize: ExecSession.maximumMessage)
        let byChannel = Dictionary(uniqueKeysWithValues: connections.map { ($0.channel, $0) })
        // Writes wait off the async pool, in order: a pod that does not read holds this
        // stream's input, not a shared thread.
        let writes = DispatchQueue(label: "fair.portforward.send")
        while let message = try? await reader.next() {
            guard let channel = message.first, let connection = byChannel[channel], message.count > 1 else { continue }
            let payload = Array(message.dropFirst())
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                writes.async {
                    _ = connection.send(payload)
                    continuation.resume()
                }
            }
        }
        // The client has gone: every connection goes with it.
        for connection in connections { connection.shutDown() }
    }
}

/// One TCP connection to the pod, read on a thread of its own.
final class PodConnection: @unchecked Sendable {
    let channel: UInt8
    let socket: Int32
    private let lock = NSLock()
    private var closed = false

    struct DialError: Error, CustomStringConvertible {
        let description: String
    }

    init(address: String, port: UInt16, channel: UInt8) throws {
        self.channel = channel
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else { throw DialError(description: "pod address \(address) is not IPv4") }
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw DialError(description: String(cString: strerror(errno))) }
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            // Go's words for the errno ("connection refused"), as kubelet's dial error reads.
            let reason = String(cString: strerror(errno)).lowercased()
            Glibc.close(descriptor)
            throw DialError(description: "dial tcp \(address):\(port): connect: \(reason)")
        }
        socket = descriptor
    }

    /// Writes all of `bytes`; false once the connection cannot take them.
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Ends both directions; a read waiting in `pump` returns.
    func shutDown() {
        _ = Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        Glibc.close(socket)
    }

    deinit { close() }
}
