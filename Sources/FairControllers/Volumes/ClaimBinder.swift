import FairKube
import Foundation

/// Binds claims to volumes, as kube-controller-manager's persistent-volume controller does:
/// a claim gets the smallest volume that fits (or the one promised to it); with none, a claim
/// whose class has a provisioner asks it for one — at once for `Immediate` classes, once the
/// scheduler has picked its first pod's node for `WaitForFirstConsumer` ones. The volume's
/// `claimRef` is written first, so two claims never take one volume; then the claim's
/// `volumeName` and both phases. Keyed by claim; volumes changing wake the claims they name.
final class ClaimBinder: QueuedController {
    override var name: String { "persistentvolume-binder" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        events = context.events("persistentvolume-controller")
        super.init()
        informers.persistentVolumeClaims.addHandler { [weak self] event in
            switch event {
            case let .added(claim), let .updated(_, claim): self?.enqueue(Informer.key(claim))
            case .deleted: break
            }
        }
        informers.persistentVolumes.addHandler { [weak self] event in
            guard let self else { return }
            switch event {
            case let .added(volume), let .updated(_, volume), let .deleted(volume):
                if let namespace = volume.value(at: "spec.claimRef.namespace")?.stringValue,
                   let name = volume.value(at: "spec.claimRef.name")?.stringValue {
                    enqueue(Informer.key(namespace: namespace, name: name))
                } else {
                    // A free volume may serve any waiting claim.
                    for claim in informers.persistentVolumeClaims.list(where: { $0.value(at: "spec.volumeName") == nil }) {
                        enqueue(Informer.key(claim))
                    }
                }
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let claim = informers.persistentVolumeClaims.get(key), claim.value(at: "metadata.deletionTimestamp") == nil else { return .done }
        if let volumeName = claim.value(at: "spec.volumeName")?.stringValue, !volumeName.isEmpty {
            try syncBound(claim, volumeName: volumeName)
            return .done
        }
        let volumes = informers.persistentVolumes.list()
        if let volume = VolumeMatching.best(for: claim, among: volumes) {
            try bind(claim, to: volume)
            return .done
        }
        try askProvisioner(claim)
        return .done
    }

    /// A claim naming its volume: finish the binding on whichever side is missing, or mark the
    /// claim Lost when its volume is gone.
    private func syncBound(_ claim: JSONValue, volumeName: String) throws {
        guard let volume = informers.persistentVolumes.get(namespace: nil, name: volumeName) else {
            if claim.value(at: "status.phase")?.stringValue == "Bound" {
                try setClaimStatus(claim, ["phase": "Lost"])
                events.record(claim, .warning, reason: "ClaimLost", message: "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            }
            return
        }
        if volume.value(at: "spec.claimRef") == nil || VolumeMatching.isPromised(volume, to: claim) {
            try bind(claim, to: volume)
        } else if claim.value(at: "status.phase")?.stringValue != "Lost" {
            try setClaimStatus(claim, ["phase": "Lost"])
            events.record(claim, .warning, reason: "ClaimMisbound", message: "Two claims are bound to the same volume, this one is bound incorrectly")
        }
    }

    private func bind(_ claim: JSONValue, to volume: JSONValue) throws {
        let volumeName = volume.name ?? ""
        // The volume first, guarded by its version: a second claim racing for it loses here.
        if !(VolumeMatching.isPromised(volume, to: claim) && volume.value(at: "spec.claimRef.uid")?.stringValue == claim.uid) {
            var patch: JSONValue = [
                "metadata": ["resourceVersion": .string(volume.resourceVersion ?? "")],
                "spec": ["claimRef": [
                    "kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": .string(claim.namespace ?? ""),
                    "name": .string(claim.name ?? ""), "uid": .string(claim.uid ?? ""),
                    "resourceVersion": .string(claim.resourceVersion ?? ""),
                ]],
            ]
            if volume.value(at: "spec.claimRef") == nil {
                patch.set(.object([StorageAnnotations.boundByController: "yes"]), at: ["metadata", "annotations"])
            }
            do {
                _ = try client.mergePatch(.persistentVolumes, name: volumeName, patch)
            } catch let error as KubeError where error.isConflict || error.isNotFound {
                enqueue(Informer.key(claim))
                return
            }
        }
        if volume.value(at: "status.phase")?.stringValue != "Bound" {
            _ = try client.mergePatch(.persistentVolumes, name: volumeName, ["status": ["phase": "Bound"]], subresource: "status")
        }
        if claim.value(at: "spec.volumeName")?.stringValue != volumeName
            || claim.value(at: ["metadata", "annotations", StorageAnnotations.bindCompleted]) == nil {
            var patch: JSONValue = ["metadata": ["annotations": .object([StorageAnnotations.bindCompleted: "yes"])]]
            if claim.value(at: "spec.volumeName") == nil {
                patch.set(.string(volumeName), at: ["spec", "volumeName"])
                patch.set(.string("yes"), at: ["metadata", "annotations", StorageAnnotations.boundByController])
            }
            _ = try client.mergePatch(.persistentVolumeClaims, namespace: claim.namespace, name: claim.name ?? "", patch)
        }
        let status: JSONValue = [
            "phase": "Bound",
            "accessModes": volume.value(at: "spec.accessModes") ?? [],
            "capacity": volume.value(at: "spec.capacity") ?? [:],
        ]
        if claim["status"]?["phase"] != status["phase"] || claim["status"]?["capacity"] != status["capacity"] {
            try setClaimStatus(claim, status)
        }
    }

    /// No volume fits: a class with a provisioner is asked for one (by annotation, which the
    /// provisioner watches); otherwise the claim waits, and says why.
    private func askProvisioner(_ claim: JSONValue) throws {
        let className = VolumeMatching.className(claim)
        guard !className.isEmpty, let storageClass = informers.storageClasses.get(namespace: nil, name: className) else {
            let message = className.isEmpty ? "no persistent volumes available for this claim and no storage class is set"
                                            : "storageclass.storage.k8s.io \"\(className)\" not found"
            events.record(claim, className.isEmpty ? .normal : .warning, reason: "FailedBinding", message: message)
            return
        }
        let provisioner = storageClass["provisioner"]?.stringValue ?? ""
        let waits = storageClass["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer"
        let annotations = claim.value(at: "metadata.annotations")?.objectValue ?? [:]
        if waits && annotations[StorageAnnotations.selectedNode] == nil {
            events.record(claim, .normal, reason: "WaitForFirstConsumer", message: "waiting for first consumer to be created before binding")
            return
        }
        guard annotations[StorageAnnotations.storageProvisioner]?.stringValue != provisioner else { return }
        _ = try client.mergePatch(.persistentVolumeClaims, namespace: claim.namespace, name: claim.name ?? "", [
            "metadata": ["annotations": .object([
                StorageAnnotations.storageProvisioner: .string(provisioner),
                StorageAnnotations.betaStorageProvisioner: .string(provisioner),
            ])],
        ])
        events.record(claim, .normal, reason: "ExternalProvisioning",
                      message: "Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
    }

    private func setClaimStatus(_ claim: JSONValue, _ status: JSONValue) throws {
        do {
            _ = try client.mergePatch(.persistentVolumeClaims, namespace: claim.namespace, name: claim.name ?? "", ["status": status], subresource: "status")
        } catch let error as KubeError where error.isNotFound {}
    }
}
