import FairKube

/// Pods that start together or not at all (gang scheduling): distributed training whose workers
/// wait for each other would otherwise hold a node's room forever while a peer cannot be placed.
///
/// A group is named by labels on its pods, the ones scheduler-plugins' lightweight coscheduling
/// reads (`pod-group.scheduling.sigs.k8s.io/name` and `…/min-available`), so the same pods carry
/// their grouping to a cluster that runs that plugin and are ordinary pods anywhere else.
/// Nothing of a group is bound until `minAvailable` of its pods are placed or fit at once.
struct PodGroup: Hashable, Sendable {
    let namespace: String
    let name: String
    let minAvailable: Int

    /// The pod's group; nil for a pod in none, or in a group of one (nothing to wait for).
    init?(_ pod: JSONValue) {
        let labels = pod.labels
        guard let name = labels[PodGroupLabels.name], !name.isEmpty,
              let text = labels[PodGroupLabels.minAvailable], let minAvailable = Int(text), minAvailable > 1 else { return nil }
        self.namespace = pod.namespace ?? ""
        self.name = name
        self.minAvailable = minAvailable
    }

    func contains(_ pod: JSONValue) -> Bool {
        pod.namespace ?? "" == namespace && pod.labels[PodGroupLabels.name] == name
    }

    func waitingMessage(present: Int) -> String {
        "pod group \"\(name)\" has \(present) of the \(minAvailable) pods that must start together; \(PodGroupLabels.waitingForTheRest)"
    }

    func misfitMessage(fitting: Int, needed: Int, _ failure: FitFailure) -> String {
        "pod group \"\(name)\": \(needed) pods must start together and only \(fitting) fit: \(failure.message)"
    }
}
