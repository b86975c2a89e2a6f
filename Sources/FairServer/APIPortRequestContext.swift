import FairAPIServer
import FairTLS
import Hummingbird
import HummingbirdTLS
import NIOCore
import NIOSSL

/// A request on the API port: it knows the client's address (for the proxies' X-Forwarded-For)
/// and the client certificate the connection presented, which the handshake verified against
/// the cluster's root (nodes authenticate with one).
struct APIPortRequestContext: RequestContext, RemoteAddressRequestContext, ClientCertificateRequestContext {
    var coreContext: CoreRequestContextStorage
    private let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var remoteAddress: SocketAddress? { channel.remoteAddress }

    func clientCertificateSubject() async -> (commonName: String, organizations: [String])? {
        await Self.clientCertificateSubject(of: channel)
    }

    /// The verified certificate the connection's client presented, if any.
    static func clientCertificateSubject(of channel: any Channel) async -> (commonName: String, organizations: [String])? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
              let der = try? certificate.toDERBytes(),
              let subject = CertificateSubject.of(certificateDER: der) else { return nil }
        return (subject.commonName, subject.organizations)
    }
}
