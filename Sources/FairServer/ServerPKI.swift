import FairTLS
import Foundation
import X509

/// The server's certificates, kept in `DATA/tls` as kubeadm keeps `/etc/kubernetes/pki`:
/// - `ca.crt`/`ca.key`: the cluster's root, given to clients as the kubeconfig's authority;
/// - `server.crt`/`.key`: the API's serving certificate for the loopback names and `--host`;
/// - `kubelet-client.crt`/`.key`: the API server's client certificate for nodes, which is how a
///   node knows a request for logs comes from the control plane (no token crosses that link).
/// A data directory from before the root was kept apart (its `server.crt` was its own root) is
/// given a new root; the kubeconfig written at start carries it.
struct ServerPKI {
    let authority: CertificateAuthority
    let server: TLSIdentity
    let kubeletClient: TLSIdentity
    let kubeletClientCertificatePath: String
    let kubeletClientKeyPath: String

    static func loadOrCreate(directory: String, host: String) throws -> ServerPKI {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
        let authority = try CertificateAuthority.loadOrCreate(directory: directory, commonName: "fair cluster CA")
        var hosts = ["localhost", "127.0.0.1"]
        if !hosts.contains(host), !host.isEmpty, host != "0.0.0.0", host != "::" { hosts.append(host) }
        let server = try authority.loadOrIssue(
            certificatePath: "\(directory)/server.crt", keyPath: "\(directory)/server.key",
            commonName: "fair server", organization: "fair", profile: .server(hosts: hosts),
            accepts: { leaf in Self.names(of: leaf).isSuperset(of: hosts) })
        let clientCertificate = "\(directory)/kubelet-client.crt", clientKey = "\(directory)/kubelet-client.key"
        let kubeletClient = try authority.loadOrIssue(
            certificatePath: clientCertificate, keyPath: clientKey,
            commonName: "fair:apiserver-kubelet-client", organization: "system:masters", profile: .client)
        return ServerPKI(authority: authority, server: server, kubeletClient: kubeletClient,
                         kubeletClientCertificatePath: clientCertificate, kubeletClientKeyPath: clientKey)
    }

    /// The host names and addresses a serving certificate is good for, written as `--host` is.
    private static func names(of certificate: Certificate) -> Set<String> {
        guard let alternatives = try? certificate.extensions.subjectAlternativeNames else { return [] }
        var names = Set<String>()
        for name in alternatives {
            switch name {
            case let .dnsName(text): names.insert(text)
            case let .ipAddress(bytes):
                let raw = Array(bytes.bytes)
                var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                let family = raw.count == 4 ? AF_INET : AF_INET6
                if raw.withUnsafeBytes({ inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }) != nil {
                    names.insert(String(cString: buffer))
                }
            default: break
            }
        }
        return names
    }
}
