import FairKube
import FairTLS
import Foundation

/// The log server's TLS: a serving certificate made fresh at every start (its key never
/// touches the disk; the Node publishes the new key's pin at registration), and the roots whose
/// client certificates it accepts: the authority in the node's kubeconfig, the root that signed
/// the API server's client certificate, as kubelet's `--client-ca-file`. That root also signs
/// nodes' own client certificates, so the log server then serves only a client in
/// `system:masters` (the API server's `kubelet-client`), as kubelet's webhook authorization
/// would answer for a node asking another node's logs.
struct NodeServingIdentity: Sendable {
    let identity: TLSIdentity
    let clientAuthorityPEM: String
    let publicKeyPin: String

    struct MissingAuthority: Error, CustomStringConvertible {
        let server: String
        var description: String {
            "the kubeconfig for \(server) names no certificate authority, so the node cannot tell the API server's requests for logs from anyone else's: logs are not served (give the kubeconfig certificate-authority-data)"
        }
    }

    static func make(nodeName: String, addresses: [String], issuer: CertificateAuthority?, config: Kubeconfig) throws -> NodeServingIdentity {
        guard let authority = config.certificateAuthorityPEM, !authority.isEmpty else { throw MissingAuthority(server: config.server) }
        let profile = CertificateProfile.server(hosts: addresses + [nodeName])
        let user = NodeIdentity.userName(of: nodeName)
        let identity = try issuer?.issue(commonName: user, organization: NodeIdentity.group, profile: profile)
            ?? CertificateAuthority.selfSigned(commonName: user, profile: profile)
        return NodeServingIdentity(identity: identity, clientAuthorityPEM: authority, publicKeyPin: try identity.publicKeyPin)
    }
}
