/// How a node makes its Services' cluster IPs answer (kube-proxy's `--proxy-mode`).
public enum ServiceProxyMode: String, Sendable, CaseIterable {
    /// nftables when this process may change the host's rules (root and `nft` present),
    /// userspace otherwise; which one ran is logged.
    case automatic = "auto"
    /// The kernel rewrites each new connection's destination to a ready endpoint (DNAT in an
    /// nftables table of the node's own), as kube-proxy's nftables mode does: no copy of the
    /// bytes through this process, so a cluster IP costs about what the pod's own address does.
    case nftables
    /// The node accepts on every cluster IP and port and copies both directions to an endpoint
    /// picked in turn: no privilege needed, one more hop for every byte.
    case userspace
}
