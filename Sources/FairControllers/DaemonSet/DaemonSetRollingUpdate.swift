import FairKube
import Foundation

/// Which old pods a RollingUpdate DaemonSet replaces now (kube's update.go, the maxSurge 0
/// path): an old pod that is not available goes at once, since it serves nothing; available
/// ones go while fewer than maxUnavailable nodes are without an available pod. Creating their
/// replacements is left to the next pass, which finds those nodes without a pod.
struct DaemonSetRollingUpdate {
    let hash: String
    let minReadySeconds: Int64
    let now: Date

    /// `podsByNode`: the set's pods on each node it has pods on; `maxUnavailable` resolved
    /// against the nodes that should run one.
    func podsToDelete(podsByNode: [String: [JSONValue]], maxUnavailable: Int) -> [JSONValue] {
        var unavailable = 0
        var replaceNow: [JSONValue] = []
        var candidates: [JSONValue] = []
        for node in podsByNode.keys.sorted() {
            let live = (podsByNode[node] ?? []).filter { !$0.isTerminating }
            let new = live.filter { $0.labels[DaemonPodTemplate.revisionLabel] == hash }
            let old = live.filter { $0.labels[DaemonPodTemplate.revisionLabel] != hash }
            // Duplicates are the manage step's to clean up first.
            guard new.count <= 1, old.count <= 1 else { continue }
            switch (old.first, new.first) {
            case (nil, nil), (.some, .some):
                unavailable += 1
            case let (nil, pod?):
                if !isAvailable(pod) { unavailable += 1 }
            case let (pod?, nil):
                if !isAvailable(pod) {
                    replaceNow.append(pod)
                } else if unavailable < maxUnavailable {
                    candidates.append(pod)
                }
            }
        }
        let room = max(0, min(maxUnavailable - unavailable, candidates.count))
        return replaceNow + candidates.prefix(room)
    }

    private func isAvailable(_ pod: JSONValue) -> Bool { pod.isAvailablePod(minReadySeconds: minReadySeconds, now: now) }
}
