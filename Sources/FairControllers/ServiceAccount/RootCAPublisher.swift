import FairKube
import FairSupport
import Foundation

/// Keeps a ConfigMap `kube-root-ca.crt` with the cluster's CA certificate (`ca.crt`) in every
/// active namespace, as kube-controller-manager's root-ca-cert-publisher does: what a pod's
/// service-account volume reads to trust the API server. Made again when deleted, put back when
/// changed. Publishes nothing where the controllers' own kubeconfig names no CA.
final class RootCAPublisher: QueuedController {
    static let configMapName = "kube-root-ca.crt"

    override var name: String { "root-ca-cert-publisher" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let certificate: String?

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        certificate = context.client.config.certificateAuthorityPEM
        super.init()
        informers.namespaces.addHandler { [weak self] event in
            switch event {
            case let .added(namespace), let .updated(_, namespace): self?.enqueue(namespace.name)
            case .deleted: break
            }
        }
        informers.rootCAConfigMaps.addHandler { [weak self] event in
            switch event {
            case let .deleted(map), let .updated(_, map): self?.enqueue(map.namespace)
            case .added: break
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let certificate,
              let namespace = informers.namespaces.get(namespace: nil, name: key),
              !namespace.metadata.isTerminating,
              (namespace.value(at: "status.phase")?.stringValue ?? "Active") == "Active" else { return .done }
        let data: JSONValue = ["ca.crt": .string(certificate)]
        do {
            if let existing = informers.rootCAConfigMaps.get(namespace: key, name: Self.configMapName) {
                guard existing["data"] != data else { return .done }
                _ = try client.mergePatch(.configMaps, namespace: key, name: Self.configMapName, ["data": data])
            } else {
                _ = try client.create(.configMaps, namespace: key, [
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": [
                        "name": .string(Self.configMapName), "namespace": .string(key),
                        "annotations": ["kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."],
                    ],
                    "data": data,
                ])
            }
        } catch let error as KubeError where error.code == 409 {
            return .requeue(after: 1)  // made meanwhile: look again, it may differ
        } catch let error as KubeError where error.code == 403 || error.code == 404 {
            // The namespace is terminating or gone.
        }
        return .done
    }
}
