import FairArchive
import FairKube
import FairTLS
import Foundation

/// How a node comes to its own credential, as kubelet's TLS bootstrap does: the kubeconfig it
/// was started with only has to be allowed to ask; the node makes a key, sends a
/// CertificateSigningRequest for `system:node:NAME` in `system:nodes` to the
/// `kube-apiserver-client-kubelet` signer, waits for it to be approved (automatically when the
/// asker may, else by `kubectl certificate approve`) and signed, and from then on talks to the
/// API server as that node, which the Node authorizer limits to its own pods' objects. The
/// certificate and key are kept in the node's data directory (0600) and reused while they
/// hold for at least a fifth of their life; then the node asks again with its own certificate
/// (`selfnodeclient`).
public struct NodeClientBootstrap {
    public var nodeName: String
    /// Where `kubelet-client-current.pem` (certificate, then key) is kept.
    public var directory: String
    public var timeout: TimeInterval = 300
    /// Told once when approval is taking long, with the command that grants it.
    public var waiting: (String) -> Void = { _ in }

    public init(nodeName: String, directory: String) {
        self.nodeName = nodeName
        self.directory = directory
    }

    public var subject: CertificateSubject {
        CertificateSubject(commonName: NodeIdentity.userName(of: nodeName), organizations: [NodeIdentity.group])
    }

    var credentialPath: String { "\(directory)/kubelet-client-current.pem" }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The kubeconfig the node should use: `bootstrap` itself when it already is this node's
    /// certificate; else this node's kept certificate, or a new one asked for with `bootstrap`.
    public func credentials(bootstrap: Kubeconfig, now: Date = Date()) throws -> Kubeconfig {
        if let certificate = bootstrap.clientCertificatePEM, CertificateSubject.of(certificatePEM: certificate) == subject {
            return bootstrap
        }
        let authority = bootstrap.certificateAuthorityPEM ?? ""
        let kept = keptIdentity(authority: authority)
        if let kept, let validity = kept.validity, now < validity.upperBound - (validity.upperBound.timeIntervalSince(validity.lowerBound) / 5) {
            return config(bootstrap, kept)
        }
        // A certificate still valid asks for its own renewal; otherwise the bootstrap credential asks.
        let asker = kept.flatMap { identity in identity.validity.map { now < $0.upperBound } ?? false ? config(bootstrap, identity) : nil } ?? bootstrap
        let identity = try request(with: asker)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let pem = [identity.certificatePEM, identity.privateKeyPEM].map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
        try AtomicFile.write(to: credentialPath, bytes: Array(pem.utf8), permissions: 0o600)
        return config(bootstrap, identity)
    }

    private func keptIdentity(authority: String) -> TLSIdentity? {
        guard let text = try? String(contentsOfFile: credentialPath, encoding: .utf8),
              let keyStart = text.range(of: "-----BEGIN EC PRIVATE KEY-----") ?? text.range(of: "-----BEGIN PRIVATE KEY-----") else { return nil }
        let identity = TLSIdentity(certificatePEM: String(text[..<keyStart.lowerBound]), privateKeyPEM: String(text[keyStart.lowerBound...]))
        guard CertificateSubject.of(certificatePEM: identity.certificatePEM) == subject,
              authority.isEmpty || identity.isSigned(byAuthorityPEM: authority) else { return nil }
        return identity
    }

    private func config(_ bootstrap: Kubeconfig, _ identity: TLSIdentity) -> Kubeconfig {
        var config = Kubeconfig(server: bootstrap.server, certificateAuthorityPEM: bootstrap.certificateAuthorityPEM,
                                namespace: bootstrap.namespace, context: bootstrap.context)
        config.skipsTLSVerify = bootstrap.skipsTLSVerify
        config.clientCertificatePEM = identity.certificatePEM
        config.clientKeyPEM = identity.privateKeyPEM
        return config
    }

    /// Sends the request and waits for its certificate.
    private func request(with asker: Kubeconfig) throws -> TLSIdentity {
        let client = try KubeClient(config: asker)
        let (requestPEM, keyPEM) = try CertificateRequest.make(subject: subject)
        let name = "node-csr-\(nodeName.prefix(40))-\(UInt32.random(in: 0...UInt32.max))"
        _ = try client.create(.certificateSigningRequests, [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": ["name": .string(name)],
            "spec": [
                "request": .string(Data(requestPEM.utf8).base64EncodedString()),
                "signerName": .string(CertificateSigningRules.kubeletClientSigner),
                "usages": ["digital signature", "client auth"],
            ],
        ])
        let started = Date()
        var told = false
        while true {
            let object = try client.get(.certificateSigningRequests, name: name)
            if CertificateSigningRules.isDenied(object) || CertificateSigningRules.isFailed(object) {
                let reason = (object.value(at: "status.conditions")?.arrayValue ?? [])
                    .compactMap { $0["message"]?.stringValue }.joined(separator: "; ")
                throw Failure(description: "the request for node \(nodeName)'s client certificate (\(name)) was refused: \(reason.isEmpty ? "denied" : reason)")
            }
            if let encoded = object.value(at: "status.certificate")?.stringValue, !encoded.isEmpty,
               let data = Data(base64Encoded: encoded), let certificate = String(data: data, encoding: .utf8) {
                return TLSIdentity(certificatePEM: certificate, privateKeyPEM: keyPEM)
            }
            let waited = Date().timeIntervalSince(started)
            if waited > timeout {
                throw Failure(description: "node \(nodeName)'s client certificate request \(name) was not approved within \(Int(timeout)) s: approve it with `kubectl certificate approve \(name)`, or start the node with a credential that may create certificatesigningrequests/nodeclient")
            }
            if waited > 5, !told {
                told = true
                waiting("waiting for approval of \(name): kubectl certificate approve \(name)")
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
    }
}
