/// How `fair server` runs.
public struct ServerOptions: Sendable {
    public var dataDirectory: String
    public var host: String = "127.0.0.1"
    /// 0 picks a free port; the kubeconfig records the one in use.
    public var port: Int = 6443
    /// The embedded registry's plain-HTTP port on the same host (0: a free one).
    public var registryPort: Int = 5000

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// Loopback-only servers allow anonymous registry access (pushes from the same machine);
    /// anything reachable from elsewhere needs the token for everything.
    public var isLoopback: Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.") }
}
