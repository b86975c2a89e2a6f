import FairKube
import FairSupport
import Foundation

/// apps/v1 StatefulSets: pods `SET-0 … SET-(n-1)` with stable names and claims, made and removed
/// in order (`StatefulSetPass`), and a status `kubectl rollout status sts` can follow. Only
/// pods named like the set's are adopted, as kube's isMemberOf allows.
final class StatefulSetController: QueuedController {
    override var name: String { "statefulset-controller" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder
    let expectations: Expectations
    private let clock: WallClock

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        events = context.events("statefulset-controller")
        clock = context.clock
        expectations = Expectations(clock: context.clock)
        super.init()
        informers.statefulSets.addHandler { [weak self] event in self?.setChanged(event) }
        informers.pods.addHandler { [weak self] event in self?.podChanged(event) }
        // A claim that finished being deleted lets a waiting pod be made.
        informers.persistentVolumeClaims.addHandler { [weak self] event in
            guard case let .deleted(claim) = event else { return }
            self?.enqueueOwners(ofClaim: claim)
        }
    }

    // MARK: - Events

    private func setChanged(_ event: InformerEvent) {
        let key = Informer.key(event.object)
        if case .deleted = event { expectations.forget(key) }
        enqueue(key)
    }

    private func podChanged(_ event: InformerEvent) {
        switch event {
        case let .added(pod):
            if let key = pod.controllerKey(ofKind: .statefulSet) {
                expectations.creationObserved(key)
                if pod.isTerminating, let uid = pod.uid { expectations.deletionObserved(key, uid: uid) }
                enqueue(key)
            } else if pod.controllerReference == nil {
                enqueueMatching(pod)
            }
        case let .updated(old, new):
            let oldKey = old.controllerKey(ofKind: .statefulSet), newKey = new.controllerKey(ofKind: .statefulSet)
            if let newKey, new.isTerminating, let uid = new.uid { expectations.deletionObserved(newKey, uid: uid) }
            enqueue(newKey)
            if oldKey != newKey { enqueue(oldKey) }
            if new.controllerReference == nil, old.labels != new.labels || old.controllerReference != nil {
                enqueueMatching(new)
            }
        case let .deleted(pod):
            guard let key = pod.controllerKey(ofKind: .statefulSet) else { return }
            if let uid = pod.uid { expectations.deletionObserved(key, uid: uid) }
            enqueue(key)
        }
    }

    /// An orphan pod: the set it is named after takes a look, if its selector matches.
    private func enqueueMatching(_ pod: JSONValue) {
        for statefulSet in informers.statefulSets.list(namespace: pod.namespace)
        where StatefulPodIdentity.ordinal(of: pod.name, set: statefulSet.name ?? "") != nil
            && LabelSelector(object: StatefulSet(json: statefulSet).spec.selector ?? [:]).matches(pod.labels) {
            enqueue(Informer.key(statefulSet))
        }
    }

    private func enqueueOwners(ofClaim claim: JSONValue) {
        for statefulSet in informers.statefulSets.list(namespace: claim.namespace) {
            let templates = StatefulSet(json: statefulSet).spec.volumeClaimTemplates.compactMap(\.metadata.name)
            if templates.contains(where: { (claim.name ?? "").hasPrefix("\($0)-\(statefulSet.name ?? "")-") }) { enqueue(Informer.key(statefulSet)) }
        }
    }

    // MARK: - Reconcile

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let statefulSet = informers.statefulSets.get(key) else {
            expectations.forget(key)
            return .done
        }
        let setName = statefulSet.name ?? ""
        let selector = LabelSelector(object: StatefulSet(json: statefulSet).spec.selector ?? [:])
        let candidates = informers.pods.list(namespace: statefulSet.namespace) {
            $0.isControlled(by: statefulSet) || ($0.controllerReference == nil && StatefulPodIdentity.ordinal(of: $0.name, set: setName) != nil)
        }
        let claimer = ControllerRefClaimer(client: client, owner: statefulSet, kind: .statefulSet, dependents: .pods,
                                           selector: selector) { [client] in
            try ownerStillCurrent(client, .statefulSets, statefulSet)
        }
        let pods = try claimer.claim(candidates)
        let pass = StatefulSetPass(client: client, events: events, expectations: expectations,
                                   claims: informers.persistentVolumeClaims, key: key, statefulSet: statefulSet, pods: pods,
                                   updateRevision: StatefulSetRevision.name(of: statefulSet), now: clock.now)
        // Until the informer has seen our own creates and deletes, the pod list is behind.
        let caughtUp = expectations.isSatisfied(key)
        if caughtUp, !statefulSet.isTerminating { try pass.run() }
        let delay = try writeStatus(statefulSet, pods: pods, pass: pass)
        return .soonest(delay, caughtUp ? nil : expectations.timeout)
    }

    // MARK: - Status

    /// kube's computeReplicaStatus and completeRollingUpdate: counts of the pods as read, and
    /// the current revision moves to the update revision once every pod is updated and ready.
    private func writeStatus(_ statefulSet: JSONValue, pods: [JSONValue], pass: StatefulSetPass) throws -> TimeInterval? {
        let now = clock.now
        let object = StatefulSet(json: statefulSet)
        let minReadySeconds = object.spec.minReadySeconds ?? 0
        let updateRevision = pass.updateRevision
        var currentRevision = object.status.currentRevision ?? ""
        if currentRevision.isEmpty { currentRevision = updateRevision }
        let live = pods.filter { !$0.isTerminating }
        let ready = pods.filter { $0.podPhase == "Running" && $0.isReadyPod }

        var status = object.status
        status.observedGeneration = object.metadata.generation ?? 1
        status.replicas = Int64(pods.count)
        status.readyReplicas = Int64(ready.count)
        status.availableReplicas = Int64(ready.filter { $0.isAvailablePod(minReadySeconds: minReadySeconds, now: now) }.count)
        status.currentReplicas = Int64(live.filter { StatefulPodIdentity.revision(of: $0) == currentRevision }.count)
        status.updatedReplicas = Int64(live.filter { StatefulPodIdentity.revision(of: $0) == updateRevision }.count)
        status.currentRevision = currentRevision
        status.updateRevision = updateRevision
        status.collisionCount = object.status.collisionCount ?? 0
        if object.spec.updateStrategyType != "OnDelete", status.updatedReplicas == status.replicas, status.readyReplicas == status.replicas {
            status.currentReplicas = status.updatedReplicas
            status.currentRevision = updateRevision
        }
        if status.json != object.status.json {
            var updated = object
            updated.status = status
            // Status is recomputed from the pods each time: the newest computation wins.
            updated.metadata.resourceVersion = nil
            _ = try client.update(.statefulSets, updated.json, subresource: "status")
        }
        // A pod ready but not yet for minReadySeconds becomes available without an event.
        let waiting = ready.compactMap { pod -> TimeInterval? in
            guard minReadySeconds > 0, let since = pod.readySince else { return nil }
            let remaining = since.addingTimeInterval(Double(minReadySeconds)).timeIntervalSince(now)
            return remaining > 0 ? remaining : nil
        }
        return waiting.min().map { $0 + 0.05 }
    }
}
