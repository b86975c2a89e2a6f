import NIOCore

/// One ready endpoint of a Service port: a pod address and the port its container serves on.
/// The socket address is resolved once, when the endpoint table is built, so connecting never
/// goes through a resolver.
public struct Backend: Hashable, Sendable, CustomStringConvertible {
    public let ip: String
    public let port: Int
    let socketAddress: SocketAddress
    /// `ip:port` (IPv6 in brackets): the Host header sent to the pod, and how errors name it.
    public let hostAndPort: String

    public init(ip: String, port: Int) throws {
        self.ip = ip
        self.port = port
        socketAddress = try SocketAddress(ipAddress: ip, port: port)
        hostAndPort = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    public var description: String { hostAndPort }

    public static func == (lhs: Backend, rhs: Backend) -> Bool { lhs.ip == rhs.ip && lhs.port == rhs.port }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ip)
        hasher.combine(port)
    }
}
