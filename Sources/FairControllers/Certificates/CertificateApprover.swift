import FairKube
import FairTLS
import Foundation

/// Approves kubelets' requests for client certificates, as kube-controller-manager's
/// csrapproving controller does: a request of the shape a kubelet sends, for signer
/// `kubernetes.io/kube-apiserver-client-kubelet`, is approved when its requester may `create`
/// `certificatesigningrequests/nodeclient` (a joining node's credential), or
/// `…/selfnodeclient` when a node renews its own. The answer comes from a SubjectAccessReview,
/// so RBAC decides, not this loop. Anything else waits for `kubectl certificate approve`.
final class CertificateApprover: QueuedController {
    override var name: String { "csrapproving" }

    private let client: KubeClient
    private let informers: SharedInformers

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
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
              object.value(at: "spec.signerName")?.stringValue == CertificateSigningRules.kubeletClientSigner,
              !CertificateSigningRules.isApproved(object), !CertificateSigningRules.isDenied(object),
              let request = try? NodeClientRequest.parse(object),
              NodeClientRequest.problem(request, usages: NodeClientRequest.usages(object)) == nil else { return .done }
        let requester = object.value(at: "spec.username")?.stringValue ?? ""
        let subresource = requester == request.subject.commonName ? "selfnodeclient" : "nodeclient"
        guard try mayRequest(object, subresource: subresource) else { return .done }
        let condition: JSONValue = [
            "type": "Approved", "status": "True", "reason": "AutoApproved",
            "message": "Auto approving kubelet client certificate after SubjectAccessReview.",
            "lastUpdateTime": .string(KubeTime.format(Date())),
        ]
        do {
            _ = try client.update(.certificateSigningRequests, CertificateSigningRules.setting(condition, in: object), subresource: "approval")
        } catch let error as KubeError where error.code == 409 {
            return .requeue(after: 1)
        } catch let error as KubeError where error.isNotFound {}
        return .done
    }

    /// Whether the requester (as the API server recorded it) may ask for this kind of certificate.
    private func mayRequest(_ object: JSONValue, subresource: String) throws -> Bool {
        var spec: [String: JSONValue] = [
            "user": object.value(at: "spec.username") ?? "",
            "groups": object.value(at: "spec.groups") ?? [],
            "resourceAttributes": ["group": "certificates.k8s.io", "resource": "certificatesigningrequests",
                                   "subresource": .string(subresource), "verb": "create"],
        ]
        if let uid = object.value(at: "spec.uid") { spec["uid"] = uid }
        if let extra = object.value(at: "spec.extra") { spec["extra"] = extra }
        let review = try client.create(.subjectAccessReviews, [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": .object(spec),
        ])
        return review.value(at: "status.allowed")?.boolValue ?? false
    }
}
