import FairKube
import Foundation

/// Which PersistentVolume can serve a claim, as kube's volume binder decides it: same class
/// (`""` and absent alike mean none), the same volume mode, every access mode the claim asks
/// for, at least its size, and either free or already promised to this very claim.
enum VolumeMatching {
    static func requestedSize(_ claim: JSONValue) -> Quantity? {
        Quantity(claim.value(at: ["spec", "resources", "requests", "storage"]))
    }

    static func className(_ object: JSONValue) -> String {
        object.value(at: "spec.storageClassName")?.stringValue ?? ""
    }

    /// The volume is promised (`claimRef`) to this claim: by uid when the reference has one.
    static func isPromised(_ volume: JSONValue, to claim: JSONValue) -> Bool {
        guard let reference = volume.value(at: "spec.claimRef"),
              reference["name"]?.stringValue == claim.name, reference["namespace"]?.stringValue == claim.namespace else { return false }
        guard let uid = reference["uid"]?.stringValue, !uid.isEmpty else { return true }
        return uid == claim.uid
    }

    static func fits(_ volume: JSONValue, _ claim: JSONValue) -> Bool {
        guard volume.value(at: "metadata.deletionTimestamp") == nil else { return false }
        if volume.value(at: "spec.claimRef") != nil && !isPromised(volume, to: claim) { return false }
        let phase = volume.value(at: "status.phase")?.stringValue ?? "Pending"
        guard phase == "Available" || phase == "Pending" || isPromised(volume, to: claim) else { return false }
        guard className(volume) == className(claim) else { return false }
        guard (volume.value(at: "spec.volumeMode")?.stringValue ?? "Filesystem") == (claim.value(at: "spec.volumeMode")?.stringValue ?? "Filesystem") else { return false }
        let offered = Set((volume.value(at: "spec.accessModes")?.arrayValue ?? []).compactMap(\.stringValue))
        let wanted = Set((claim.value(at: "spec.accessModes")?.arrayValue ?? []).compactMap(\.stringValue))
        guard wanted.isSubset(of: offered) else { return false }
        guard let size = Quantity(volume.value(at: ["spec", "capacity", "storage"])), let request = requestedSize(claim) else { return false }
        if let selector = claim.value(at: "spec.selector"),
           !LabelSelector(object: selector).matches(volume.value(at: "metadata.labels")?.objectValue?.compactMapValues(\.stringValue) ?? [:]) {
            return false
        }
        return size >= request
    }

    /// The smallest volume that fits (kube's `findBestMatchForClaim`); one promised to the claim wins.
    static func best(for claim: JSONValue, among volumes: [JSONValue]) -> JSONValue? {
        let fitting = volumes.filter { fits($0, claim) }
        if let promised = fitting.first(where: { isPromised($0, to: claim) }) { return promised }
        return fitting.min { (Quantity($0.value(at: ["spec", "capacity", "storage"]))?.milli ?? 0) < (Quantity($1.value(at: ["spec", "capacity", "storage"]))?.milli ?? 0) }
    }
}
