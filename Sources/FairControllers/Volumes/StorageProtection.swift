import FairKube
import Foundation

/// kube's pvc-protection and pv-protection controllers: a claim being deleted keeps its
/// `kubernetes.io/pvc-protection` finalizer while any pod that is not finished names it; a
/// volume being deleted keeps `kubernetes.io/pv-protection` while it is bound. Keys are
/// `claim/NS/NAME` and `volume/NAME`.
final class StorageProtection: QueuedController {
    override var name: String { "storage-protection" }

    private let client: KubeClient
    private let informers: SharedInformers

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        super.init()
        informers.persistentVolumeClaims.addHandler { [weak self] event in
            switch event {
            case let .added(claim), let .updated(_, claim): self?.enqueue("claim/" + Informer.key(claim))
            case .deleted: break
            }
        }
        informers.persistentVolumes.addHandler { [weak self] event in
            switch event {
            case let .added(volume), let .updated(_, volume): self?.enqueue("volume/" + (volume.name ?? ""))
            case .deleted: break
            }
        }
        informers.pods.addHandler { [weak self] event in
            // A pod that finishes or goes may free the claims it named.
            let pod: JSONValue
            switch event {
            case let .updated(_, updated): pod = updated
            case let .deleted(deleted): pod = deleted
            case .added: return
            }
            for claim in Self.claims(of: pod) { self?.enqueue("claim/" + Informer.key(namespace: pod.namespace, name: claim)) }
        }
    }

    static func claims(of pod: JSONValue) -> [String] {
        (pod.value(at: "spec.volumes")?.arrayValue ?? []).compactMap { $0.value(at: "persistentVolumeClaim.claimName")?.stringValue }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        if key.hasPrefix("claim/") {
            let claimKey = String(key.dropFirst("claim/".count))
            guard let claim = informers.persistentVolumeClaims.get(claimKey), claim.value(at: "metadata.deletionTimestamp") != nil,
                  hasFinalizer(claim, KindDefinition.pvcProtectionFinalizer) else { return .done }
            let users = informers.pods.list(namespace: claim.namespace) { pod in
                !Pod(json: pod).status.hasFinished && Self.claims(of: pod).contains(claim.name ?? "")
            }
            guard users.isEmpty else { return .done }
            try removeFinalizer(claim, KindDefinition.pvcProtectionFinalizer, resource: .persistentVolumeClaims)
        } else if key.hasPrefix("volume/") {
            let name = String(key.dropFirst("volume/".count))
            guard let volume = informers.persistentVolumes.get(namespace: nil, name: name), volume.value(at: "metadata.deletionTimestamp") != nil,
                  hasFinalizer(volume, KindDefinition.pvProtectionFinalizer),
                  volume.value(at: "status.phase")?.stringValue != "Bound" else { return .done }
            try removeFinalizer(volume, KindDefinition.pvProtectionFinalizer, resource: .persistentVolumes)
        }
        return .done
    }

    private func hasFinalizer(_ object: JSONValue, _ finalizer: String) -> Bool {
        object.metadata.finalizers.contains(finalizer)
    }

    private func removeFinalizer(_ object: JSONValue, _ finalizer: String, resource: APIResource) throws {
        let remaining = object.metadata.finalizers.filter { $0 != finalizer }
        // The list is replaced whole: guarded by the version it was read at.
        let patch: JSONValue = ["metadata": ["finalizers": .array(remaining.map { .string($0) }), "resourceVersion": .string(object.resourceVersion ?? "")]]
        do {
            _ = try client.mergePatch(resource, namespace: object.namespace, name: object.name ?? "", patch)
        } catch let error as KubeError where error.isConflict {
            enqueue(resource == .persistentVolumes ? "volume/\(object.name ?? "")" : "claim/\(Informer.key(object))")
        } catch let error as KubeError where error.isNotFound {}
    }
}
