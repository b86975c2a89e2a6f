import FairKube
import Foundation

/// The volume side of kube's persistent-volume controller: a new free volume becomes
/// `Available`; a volume whose claim is gone (or was made again, with another uid) becomes
/// `Released`, and then its reclaim policy applies: `Retain` keeps it and its data for an
/// administrator; `Delete` removes a volume this server's provisioner made, directory and
/// all. Keyed by volume name.
final class VolumeReclaimer: QueuedController {
    override var name: String { "persistentvolume-reclaimer" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder
    private let directory: LocalVolumeDirectory?

    init(_ context: ControllerContext, directory: LocalVolumeDirectory?) {
        client = context.client
        informers = context.informers
        events = context.events("persistentvolume-controller")
        self.directory = directory
        super.init()
        informers.persistentVolumes.addHandler { [weak self] event in
            switch event {
            case let .added(volume), let .updated(_, volume): self?.enqueue(volume.name)
            case .deleted: break
            }
        }
        informers.persistentVolumeClaims.addHandler { [weak self] event in
            if case let .deleted(claim) = event, let volume = claim.value(at: "spec.volumeName")?.stringValue { self?.enqueue(volume) }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let volume = informers.persistentVolumes.get(namespace: nil, name: key) else { return .done }
        let phase = volume.value(at: "status.phase")?.stringValue ?? "Pending"
        guard let reference = volume.value(at: "spec.claimRef") else {
            if phase != "Available" && volume.value(at: "metadata.deletionTimestamp") == nil { try setPhase(volume, "Available") }
            return .done
        }
        let claim = informers.persistentVolumeClaims.get(namespace: reference["namespace"]?.stringValue, name: reference["name"]?.stringValue ?? "")
        let uid = reference["uid"]?.stringValue ?? ""
        if let claim, uid.isEmpty || claim.uid == uid {
            // Promised, or bound: the binder finishes it.
            return .done
        }
        if uid.isEmpty { return .done }
        // The claim it was bound to is gone.
        if phase != "Released" && phase != "Failed" {
            // A claim the cache has not seen yet may still be on its way: ask the API.
            if (try? client.get(.persistentVolumeClaims, namespace: reference["namespace"]?.stringValue, name: reference["name"]?.stringValue ?? ""))?.uid == uid {
                return .done
            }
            try setPhase(volume, "Released")
            return .done
        }
        guard phase == "Released", volume.value(at: "spec.persistentVolumeReclaimPolicy")?.stringValue == "Delete",
              volume.value(at: "metadata.deletionTimestamp") == nil else { return .done }
        guard volume.value(at: ["metadata", "annotations", StorageAnnotations.provisionedBy])?.stringValue == LocalStorage.provisioner,
              let directory, let path = volume.value(at: "spec.hostPath.path")?.stringValue else {
            events.record(volume, .warning, reason: "VolumeFailedDelete", message: "error getting deleter volume plugin for volume \"\(key)\": no deletable volume plugin matched")
            try setPhase(volume, "Failed", message: "error getting deleter volume plugin for volume \"\(key)\": no deletable volume plugin matched")
            return .done
        }
        do {
            guard try directory.remove(path: path) else {
                try setPhase(volume, "Failed", message: "the volume's path \(path) is not one the local provisioner made")
                return .done
            }
        } catch {
            events.record(volume, .warning, reason: "VolumeFailedDelete", message: "cannot remove \(path): \(error)")
            return .requeue(after: 10)
        }
        do {
            _ = try client.delete(.persistentVolumes, name: key)
        } catch let error as KubeError where error.isNotFound {}
        return .done
    }

    private func setPhase(_ volume: JSONValue, _ phase: String, message: String? = nil) throws {
        var status: JSONValue = ["phase": .string(phase)]
        if let message { status["message"] = .string(message) }
        do {
            _ = try client.mergePatch(.persistentVolumes, name: volume.name ?? "", ["status": status], subresource: "status")
        } catch let error as KubeError where error.isNotFound {}
    }
}
