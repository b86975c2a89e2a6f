import FairKube
import Foundation

/// One pass of kube's StatefulSet control loop (stateful_set_control.go `updateStatefulSet`)
/// over the pods a set owns, in three steps, each of which may stop the pass:
/// 1. every ordinal in range gets its claims and its pod, in order; under OrderedReady the pass
///    stops at the first pod that is missing, terminating, or not yet Running, Ready and
///    available, so pod N+1 is made only once pod N is up (Parallel makes them all at once);
/// 2. pods beyond the range go, highest ordinal first, one at a time under OrderedReady;
/// 3. a rolling update deletes, from the highest ordinal down to the partition, the first pod
///    not at the update revision, once every pod above it is healthy; step 1 makes it again
///    from the new template. OnDelete leaves that to the user.
struct StatefulSetPass {
    let client: KubeClient
    let events: EventRecorder
    let expectations: Expectations
    let claims: Informer
    let key: String
    let statefulSet: JSONValue
    /// The set's pods, claimed.
    let pods: [JSONValue]
    let updateRevision: String
    let now: Date

    private var spec: StatefulSetSpec { StatefulSet(json: statefulSet).spec }
    private var setName: String { statefulSet.name ?? "" }
    private var monotonic: Bool { spec.podManagementPolicy != "Parallel" }

    /// A pod is healthy when it is Running, Ready for minReadySeconds and not on its way out.
    func isHealthy(_ pod: JSONValue) -> Bool {
        !pod.isTerminating && pod.podPhase == "Running" && pod.isAvailablePod(minReadySeconds: spec.minReadySeconds ?? 0, now: now)
    }

    func run() throws {
        let start = max(0, spec.ordinalsStart ?? 0)
        let ordinals = Array(start..<(start + max(0, spec.replicas ?? 1)))
        var slots: [Int64: JSONValue] = [:]
        var condemned: [(ordinal: Int64, pod: JSONValue)] = []
        for pod in pods {
            guard let ordinal = StatefulPodIdentity.ordinal(of: pod.name, set: setName) else { continue }
            if ordinals.contains(ordinal) { slots[ordinal] = pod } else { condemned.append((ordinal, pod)) }
        }
        condemned.sort { $0.ordinal > $1.ordinal }
        // Under OrderedReady a condemned pod that is not healthy goes only if it is the first
        // unhealthy one: a broken pod at the top can always be removed.
        let firstUnhealthy = (ordinals.compactMap { slots[$0] } + condemned.map(\.pod)).first { !isHealthy($0) }

        var firstError: Error?
        for ordinal in ordinals {
            do {
                if try processReplica(ordinal, slots[ordinal]), monotonic { return }
            } catch {
                if monotonic { throw error }
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }

        for (_, pod) in condemned {
            do {
                if try processCondemned(pod, firstUnhealthy: firstUnhealthy), monotonic { return }
            } catch {
                if monotonic { throw error }
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }

        guard spec.updateStrategyType != "OnDelete" else { return }
        // The partition counts from the first ordinal, as kube's index into its replicas does.
        let partition = Int(max(0, spec.partition ?? 0))
        for index in ordinals.indices.reversed() where index >= partition {
            guard let pod = slots[ordinals[index]] else { return }
            if StatefulPodIdentity.revision(of: pod) != updateRevision && !pod.isTerminating {
                try deletePod(pod, reason: "SuccessfulDelete")
                return
            }
            if !isHealthy(pod) { return }
        }
    }

    /// Step 1 for one ordinal; true when an OrderedReady pass must stop here.
    private func processReplica(_ ordinal: Int64, _ pod: JSONValue?) throws -> Bool {
        guard let pod else {
            try ensureClaims(ordinal: ordinal)
            try createPod(ordinal: ordinal)
            return true
        }
        // A pod that ran to its end is made again under the same name, once it is gone.
        if pod.isFinishedPod {
            if !pod.isTerminating {
                events.record(statefulSet, .warning, reason: "RecreatingFailedPod",
                              message: "StatefulSet \(statefulSet.namespace ?? "")/\(setName) is recreating \(pod.podPhase.lowercased()) Pod \(pod.name ?? "")")
                try deletePod(pod, reason: "SuccessfulDelete")
            }
            return true
        }
        // Claims deleted while the pod waited to start are made again.
        if pod.podPhase == "Pending" && !pod.isTerminating { try ensureClaims(ordinal: ordinal) }
        if pod.isTerminating || !isHealthy(pod) { return true }
        if !StatefulPodIdentity.identityMatches(statefulSet, pod, ordinal: ordinal) { try restoreIdentity(pod, ordinal: ordinal) }
        return false
    }

    /// Step 2 for one pod beyond the range; true when an OrderedReady pass must stop here.
    private func processCondemned(_ pod: JSONValue, firstUnhealthy: JSONValue?) throws -> Bool {
        if pod.isTerminating { return true }
        if monotonic && !isHealthy(pod) && pod.uid != firstUnhealthy?.uid { return true }
        if spec.claimsWhenScaled == "Delete" { try handClaimsToPod(pod) }
        try deletePod(pod, reason: "SuccessfulDelete")
        return true
    }

    // MARK: - Writes

    private func createPod(ordinal: Int64) throws {
        let pod = StatefulPodIdentity.newPod(statefulSet, ordinal: ordinal, revision: updateRevision)
        let name = pod.name ?? ""
        expectations.expectCreations(key, count: 1)
        do {
            _ = try client.create(.pods, namespace: statefulSet.namespace, pod)
        } catch {
            expectations.creationObserved(key)
            events.record(statefulSet, .warning, reason: "FailedCreate", message: "create Pod \(name) in StatefulSet \(setName) failed error: \(error)")
            throw error
        }
        events.record(statefulSet, .normal, reason: "SuccessfulCreate", message: "create Pod \(name) in StatefulSet \(setName) successful")
    }

    private func deletePod(_ pod: JSONValue, reason: String) throws {
        guard let name = pod.name, let uid = pod.uid else { return }
        expectations.expectDeletions(key, uids: [uid])
        do {
            try client.delete(.pods, namespace: pod.namespace, name: name, preconditionUID: uid)
        } catch let error as KubeError where error.isNotFound {
            expectations.deletionObserved(key, uid: uid)
            return
        } catch {
            expectations.deletionObserved(key, uid: uid)
            events.record(statefulSet, .warning, reason: "FailedDelete", message: "delete Pod \(name) in StatefulSet \(setName) failed error: \(error)")
            throw error
        }
        events.record(statefulSet, .normal, reason: reason, message: "delete Pod \(name) in StatefulSet \(setName) successful")
    }

    struct ClaimBeingDeleted: Error, CustomStringConvertible {
        let name: String
        var description: String { "pvc \(name) is being deleted" }
    }

    /// Makes the pod's missing claims. A claim still being deleted is an error, retried: the
    /// pod must not start on a claim about to vanish (kube's createPersistentVolumeClaims).
    private func ensureClaims(ordinal: Int64) throws {
        let podName = StatefulPodIdentity.podName(set: setName, ordinal: ordinal)
        for var claim in StatefulPodIdentity.claims(statefulSet, ordinal: ordinal) {
            let name = claim.name ?? ""
            if let existing = claims.get(namespace: statefulSet.namespace, name: name) {
                if existing.isTerminating { throw ClaimBeingDeleted(name: name) }
                continue
            }
            // whenDeleted: Delete makes the set an owner, so deleting it deletes its claims.
            if spec.claimsWhenDeleted == "Delete" {
                var reference = OwnerKind.statefulSet.controllerReference(to: statefulSet)
                reference["controller"] = false
                claim.set(.array([reference]), at: "metadata.ownerReferences")
            }
            do {
                _ = try client.create(.persistentVolumeClaims, namespace: statefulSet.namespace, claim)
                events.record(statefulSet, .normal, reason: "SuccessfulCreate",
                              message: "create Claim \(name) Pod \(podName) in StatefulSet \(setName) success")
            } catch let error as KubeError where error.isConflict {
                continue  // made meanwhile (or by the user): it is the pod's claim all the same
            } catch {
                events.record(statefulSet, .warning, reason: "FailedCreate",
                              message: "create Claim \(name) for Pod \(podName) in StatefulSet \(setName) failed error: \(error)")
                throw error
            }
        }
    }

    /// whenScaled: Delete — a condemned pod becomes an owner of its claims, so they go with it
    /// (kube's updateClaimOwnerRefForSetAndPod), and a scale back up makes fresh ones.
    private func handClaimsToPod(_ pod: JSONValue) throws {
        guard let ordinal = StatefulPodIdentity.ordinal(of: pod.name, set: setName), let uid = pod.uid else { return }
        for wanted in StatefulPodIdentity.claims(statefulSet, ordinal: ordinal) {
            guard let claim = claims.get(namespace: statefulSet.namespace, name: wanted.name ?? ""),
                  !claim.ownerReferences.contains(where: { $0["uid"]?.stringValue == uid }) else { continue }
            let reference: JSONValue = ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.name ?? ""), "uid": .string(uid),
                                        "blockOwnerDeletion": true]
            _ = try client.mergePatch(.persistentVolumeClaims, namespace: claim.namespace, name: claim.name ?? "",
                                      ["metadata": ["ownerReferences": .array(claim.ownerReferences + [reference]),
                                                    "resourceVersion": .string(claim.resourceVersion ?? "")]])
        }
    }

    /// An adopted pod, or one whose labels were edited, gets back the labels naming it.
    private func restoreIdentity(_ pod: JSONValue, ordinal: Int64) throws {
        _ = try client.mergePatch(.pods, namespace: pod.namespace, name: pod.name ?? "", [
            "metadata": ["labels": [StatefulPodIdentity.podNameLabel: .string(pod.name ?? ""),
                                    StatefulPodIdentity.podIndexLabel: .string(String(ordinal))],
                         "resourceVersion": .string(pod.resourceVersion ?? "")],
        ])
    }
}
