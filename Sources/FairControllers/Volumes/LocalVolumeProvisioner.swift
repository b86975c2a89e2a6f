import FairKube
import Foundation

/// The provisioner of the `local` class (`fair.dev/local`), as kind's and k3s's local-path
/// provisioners work: for a claim that asks it (the binder's annotation), once the scheduler
/// has chosen a node, it makes a directory `pvc-UID` under the volumes directory and a
/// PersistentVolume for it: a `hostPath` the node creates if missing, tied to that node by
/// affinity, promised to the claim, with the class's reclaim policy. The binder then binds them;
/// `VolumeReclaimer` removes the directory when a `Delete` volume is released.
final class LocalVolumeProvisioner: QueuedController {
    override var name: String { "local-volume-provisioner" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder
    private let directory: LocalVolumeDirectory

    init(_ context: ControllerContext, directory: LocalVolumeDirectory) {
        client = context.client
        informers = context.informers
        events = context.events(LocalStorage.provisioner)
        self.directory = directory
        super.init()
        informers.persistentVolumeClaims.addHandler { [weak self] event in
            switch event {
            case let .added(claim), let .updated(_, claim): self?.enqueue(Informer.key(claim))
            case .deleted: break
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let claim = informers.persistentVolumeClaims.get(key), claim.value(at: "metadata.deletionTimestamp") == nil,
              claim.value(at: "spec.volumeName") == nil,
              claim.value(at: ["metadata", "annotations", StorageAnnotations.storageProvisioner])?.stringValue == LocalStorage.provisioner,
              let uid = claim.uid, let storageClass = informers.storageClasses.get(namespace: nil, name: VolumeMatching.className(claim)),
              storageClass["provisioner"]?.stringValue == LocalStorage.provisioner else { return .done }
        let volumeName = "pvc-\(uid)"
        if informers.persistentVolumes.get(namespace: nil, name: volumeName) != nil { return .done }
        let node = claim.value(at: ["metadata", "annotations", StorageAnnotations.selectedNode])?.stringValue
        if claim.value(at: "spec.selector") != nil {
            events.record(claim, .warning, reason: "ProvisioningFailed",
                          message: "failed to provision volume with StorageClass \"\(storageClass.name ?? "")\": claim.Spec.Selector is not supported")
            return .done
        }
        let path = directory.path(for: volumeName)
        do {
            try directory.make(volumeName)
        } catch {
            events.record(claim, .warning, reason: "ProvisioningFailed",
                          message: "failed to provision volume with StorageClass \"\(storageClass.name ?? "")\": cannot make \(path): \(error)")
            return .requeue(after: 10)
        }
        var spec: JSONValue = [
            "capacity": ["storage": claim.value(at: ["spec", "resources", "requests", "storage"]) ?? "1Gi"],
            "accessModes": claim.value(at: "spec.accessModes") ?? ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": .string(storageClass["reclaimPolicy"]?.stringValue ?? "Delete"),
            "storageClassName": .string(storageClass.name ?? ""),
            "volumeMode": claim.value(at: "spec.volumeMode") ?? "Filesystem",
            "hostPath": ["path": .string(path), "type": "DirectoryOrCreate"],
            "claimRef": [
                "kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": .string(claim.namespace ?? ""),
                "name": .string(claim.name ?? ""), "uid": .string(uid), "resourceVersion": .string(claim.resourceVersion ?? ""),
            ],
        ]
        if let node {
            spec["nodeAffinity"] = ["required": ["nodeSelectorTerms": [[
                "matchExpressions": [["key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]],
            ]]]]
        }
        let volume: JSONValue = [
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": ["name": .string(volumeName), "annotations": .object([StorageAnnotations.provisionedBy: .string(LocalStorage.provisioner)])],
            "spec": spec,
        ]
        do {
            _ = try client.create(.persistentVolumes, volume)
        } catch let error as KubeError where error.code == 409 {
            return .done
        }
        events.record(claim, .normal, reason: "ProvisioningSucceeded",
                      message: "Successfully provisioned volume \(volumeName)" + (node.map { " on node \($0)" } ?? ""))
        return .done
    }
}
