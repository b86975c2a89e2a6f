import FairTLS
import Hummingbird
import HummingbirdTLS
import NIOCore
import NIOSSL

/// A request to the node's server, which knows the client certificate its connection
/// presented (the handshake already checked it against the cluster's root, for client use).
struct LogRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    private let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var isControlPlane: Bool {
        get async { await NodeClientIdentity.isControlPlane(channel) }
    }
}

enum NodeClientIdentity {
    /// Whether the client is the control plane: a certificate in `system:masters`, which the
    /// API server's `kubelet-client` certificate is. The cluster's root also signs nodes' own
    /// client certificates (`system:nodes`), and one node must not read another's logs or
    /// exec in its containers.
    static func isControlPlane(_ channel: any Channel) async -> Bool {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
              let der = try? certificate.toDERBytes(),
              let subject = CertificateSubject.of(certificateDER: der) else { return false }
        return subject.organizations.contains("system:masters")
    }
}
