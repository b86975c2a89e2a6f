import FairKube
import FairSupport
import Foundation

/// Keeps a `default` ServiceAccount in every active namespace, as kube-controller-manager's
/// serviceaccount controller does: made when the namespace appears, made again when deleted.
/// Keyed by namespace; a terminating namespace is left alone (its objects are going).
final class ServiceAccountsController: QueuedController {
    override var name: String { "serviceaccount" }

    private let client: KubeClient
    private let informers: SharedInformers

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        super.init()
        informers.namespaces.addHandler { [weak self] event in
            switch event {
            case let .added(namespace), let .updated(_, namespace): self?.enqueue(namespace.name)
            case .deleted: break
            }
        }
        informers.serviceAccounts.addHandler { [weak self] event in
            if case let .deleted(account) = event, account.name == KindDefinition.defaultServiceAccountName {
                self?.enqueue(account.namespace)
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let namespace = informers.namespaces.get(namespace: nil, name: key),
              !namespace.metadata.isTerminating,
              (namespace.value(at: "status.phase")?.stringValue ?? "Active") == "Active" else { return .done }
        let name = KindDefinition.defaultServiceAccountName
        if informers.serviceAccounts.get(namespace: key, name: name) != nil { return .done }
        do {
            _ = try client.create(.serviceAccounts, namespace: key, [
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": ["name": .string(name), "namespace": .string(key)],
            ])
        } catch let error as KubeError where error.code == 409 {
            // Made meanwhile (or the cache is behind): as good.
        } catch let error as KubeError where error.code == 403 || error.code == 404 {
            // The namespace is terminating or gone: nothing to keep.
        }
        return .done
    }
}
