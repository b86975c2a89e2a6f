import FairKube
import FairTLS
import Foundation

/// Signs approved requests with the cluster's root, as kube-controller-manager's csrsigning
/// controller does for the API server's client signers: `kube-apiserver-client-kubelet`
/// (a node's client certificate, which must have a node's shape) and `kube-apiserver-client`
/// (any client of the API). The certificate lives as long as asked (`expirationSeconds`), at
/// most `maximumLifetime`. A request that cannot be signed gets a `Failed` condition saying why.
final class CertificateSigner: QueuedController {
    override var name: String { "csrsigning" }

    /// kube-controller-manager's `--cluster-signing-duration` default: a year.
    static let maximumLifetime: TimeInterval = 365 * 24 * 3600

    private let client: KubeClient
    private let informers: SharedInformers
    private let authority: CertificateAuthority

    init(_ context: ControllerContext, authority: CertificateAuthority) {
        client = context.client
        informers = context.informers
        self.authority = authority
        super.init()
        informers.certificateSigningRequests.addHandler { [weak self] event in
            switch event {
            case let .added(request), let .updated(_, request): self?.enqueue(request.name)
            case .deleted: break
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let object = informers.certificateSigningRequests.get(namespace: nil, name: key),
              let signer = object.value(at: "spec.signerName")?.stringValue,
              [CertificateSigningRules.kubeletClientSigner, CertificateSigningRules.apiServerClientSigner].contains(signer),
              CertificateSigningRules.isApproved(object), !CertificateSigningRules.isFailed(object),
              (object.value(at: "status.certificate")?.stringValue ?? "").isEmpty else { return .done }
        let usages = NodeClientRequest.usages(object)
        let certificate: String
        do {
            let request = try NodeClientRequest.parse(object)
            if signer == CertificateSigningRules.kubeletClientSigner, let problem = NodeClientRequest.problem(request, usages: usages) {
                return try fail(object, "invalid certificate request: \(problem)")
            }
            guard usages.contains("client auth") else { return try fail(object, "invalid usages for a client certificate: \(usages)") }
            let asked = object.value(at: "spec.expirationSeconds")?.intValue.map(TimeInterval.init) ?? Self.maximumLifetime
            certificate = try authority.signClientCertificate(for: request, lifetime: min(asked, Self.maximumLifetime))
        } catch let failure as CertificateRequest.Failure {
            return try fail(object, failure.description)
        }
        var signed = object
        signed.set(.string(Data(certificate.utf8).base64EncodedString()), at: "status.certificate")
        return try write(signed)
    }

    private func fail(_ object: JSONValue, _ message: String) throws -> ReconcileResult {
        let condition: JSONValue = [
            "type": "Failed", "status": "True", "reason": "SignerValidationFailure", "message": .string(message),
            "lastUpdateTime": .string(KubeTime.format(Date())),
        ]
        return try write(CertificateSigningRules.setting(condition, in: object))
    }

    private func write(_ object: JSONValue) throws -> ReconcileResult {
        do {
            _ = try client.update(.certificateSigningRequests, object, subresource: "status")
        } catch let error as KubeError where error.code == 409 {
            return .requeue(after: 1)
        } catch let error as KubeError where error.isNotFound {}
        return .done
    }
}
