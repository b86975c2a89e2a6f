/// A request context that can say which client certificate the connection presented. The TLS
/// handshake has already checked it against the cluster's root and for client use; what is
/// left is to read it as a user, which `Authenticator` does.
public protocol ClientCertificateRequestContext {
    /// The verified certificate's subject (common name, organizations); nil when the client
    /// presented none.
    func clientCertificateSubject() async -> (commonName: String, organizations: [String])?
}

/// A request context for callers inside the server process, which are who they say: the
/// bundled node agent runs as its node, without a certificate or a socket between.
public protocol InProcessIdentityRequestContext {
    var inProcessUser: UserInfo? { get }
}
