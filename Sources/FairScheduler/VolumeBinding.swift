import FairKube
import Foundation

/// kube-scheduler's VolumeBinding plugin, for the claims a pod names: a missing or deleted claim,
/// or an unbound one of a class that binds at once, keeps the pod pending; a bound claim's
/// volume limits the pod to the nodes its `nodeAffinity` allows; an unbound claim of a
/// `WaitForFirstConsumer` class is given the chosen node (`volume.kubernetes.io/selected-node`),
/// for its provisioner, and the pod is bound only once every claim is.
struct VolumeBinding {
    static let affinityConflict = "node(s) had volume node affinity conflict"

    enum Verdict {
        /// Schedulable where every term list holds (one list per bound volume with affinity).
        case ready(volumeTerms: [[NodeSelectorTerm]])
        /// Schedulable where the terms hold, but these claims (namespace, name) must first be
        /// given the chosen node and be bound; the pod waits for that.
        case provision(volumeTerms: [[NodeSelectorTerm]], claims: [String])
        case unschedulable(String)
    }

    let claims: Informer
    let volumes: Informer
    let classes: Informer

    func verdict(for pod: JSONValue) -> Verdict {
        let namespace = pod.namespace ?? ""
        var terms: [[NodeSelectorTerm]] = []
        var waiting: [String] = []
        var awaitingBinding = false
        for volume in pod.value(at: "spec.volumes")?.arrayValue ?? [] {
            guard let name = volume.value(at: "persistentVolumeClaim.claimName")?.stringValue else { continue }
            guard let claim = claims.get(namespace: namespace, name: name) else {
                return .unschedulable("persistentvolumeclaim \"\(name)\" not found")
            }
            if claim.value(at: "metadata.deletionTimestamp") != nil {
                return .unschedulable("persistentvolumeclaim \"\(name)\" is being deleted")
            }
            if let volumeName = claim.value(at: "spec.volumeName")?.stringValue, !volumeName.isEmpty,
               claim.value(at: "status.phase")?.stringValue == "Bound" {
                guard let bound = volumes.get(namespace: nil, name: volumeName) else {
                    return .unschedulable("pvc(s) bound to non-existent pv(s)")
                }
                if let required = bound.value(at: "spec.nodeAffinity.required.nodeSelectorTerms")?.arrayValue {
                    terms.append(required.map { NodeSelectorTerm(NodeSelectorTermView(json: $0)) })
                }
                continue
            }
            let className = claim.value(at: "spec.storageClassName")?.stringValue ?? ""
            let storageClass = className.isEmpty ? nil : classes.get(namespace: nil, name: className)
            guard storageClass?["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer" else {
                return .unschedulable("pod has unbound immediate PersistentVolumeClaims")
            }
            if let node = claim.value(at: ["metadata", "annotations", StorageAnnotations.selectedNode])?.stringValue {
                // Being provisioned for that node: the pod goes there, once the claim is bound.
                terms.append([NodeSelectorTerm(NodeSelectorTermView(json: [
                    "matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]],
                ]))])
                awaitingBinding = true
            } else {
                waiting.append(name)
            }
        }
        if !waiting.isEmpty || awaitingBinding { return .provision(volumeTerms: terms, claims: waiting) }
        return .ready(volumeTerms: terms)
    }
}
