import FairKube
import FairSupport
import Foundation

/// apps/v1 ReplicaSets: keeps `spec.replicas` active pods that match the selector and are
/// controlled by the ReplicaSet, adopting matching orphans and releasing pods that stopped
/// matching. Finished pods are not active: they are replaced, then deleted.
final class ReplicaSetController: QueuedController {
    override var name: String { "replicaset-controller" }

    /// At most this many pods are created or deleted in one reconcile (kube's burstReplicas).
    static let burst = 500

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder
    let expectations: Expectations
    private let clock: WallClock

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        events = context.events("replicaset-controller")
        clock = context.clock
        expectations = Expectations(clock: context.clock)
        super.init()
        informers.replicaSets.addHandler { [weak self] event in self?.replicaSetChanged(event) }
        informers.pods.addHandler { [weak self] event in self?.podChanged(event) }
    }

    // MARK: - Events

    private func replicaSetChanged(_ event: InformerEvent) {
        let key = Informer.key(event.object)
        if case .deleted = event { expectations.forget(key) }
        enqueue(key)
    }

    private func podChanged(_ event: InformerEvent) {
        switch event {
        case let .added(pod):
            if let key = pod.controllerKey(ofKind: .replicaSet) {
                expectations.creationObserved(key)
                if pod.isTerminating, let uid = pod.uid { expectations.deletionObserved(key, uid: uid) }
                enqueue(key)
            } else if pod.controllerReference == nil {
                enqueueMatching(pod)
            }
        case let .updated(old, new):
            let oldKey = old.controllerKey(ofKind: .replicaSet), newKey = new.controllerKey(ofKind: .replicaSet)
            if let newKey, new.isTerminating, let uid = new.uid { expectations.deletionObserved(newKey, uid: uid) }
            enqueue(newKey)
            if oldKey != newKey { enqueue(oldKey) }
            if new.controllerReference == nil, old.labels != new.labels || old.controllerReference != nil {
                enqueueMatching(new)
            }
        case let .deleted(pod):
            guard let key = pod.controllerKey(ofKind: .replicaSet) else { return }
            if let uid = pod.uid { expectations.deletionObserved(key, uid: uid) }
            enqueue(key)
        }
    }

    /// An orphan pod: every ReplicaSet that might adopt it takes a look.
    private func enqueueMatching(_ pod: JSONValue) {
        let labels = pod.labels
        for replicaSet in informers.replicaSets.list(namespace: pod.namespace)
        where LabelSelector(object: ReplicaSet(json: replicaSet).spec.selector ?? [:]).matches(labels) {
            enqueue(Informer.key(replicaSet))
        }
    }

    // MARK: - Reconcile

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let replicaSet = informers.replicaSets.get(key) else {
            expectations.forget(key)
            return .done
        }
        let selector = LabelSelector(object: ReplicaSet(json: replicaSet).spec.selector ?? [:])
        let candidates = informers.pods.list(namespace: replicaSet.namespace) {
            $0.isControlled(by: replicaSet) || $0.controllerReference == nil
        }
        let claimer = ControllerRefClaimer(client: client, owner: replicaSet, kind: .replicaSet, dependents: .pods,
                                           selector: selector) { [client] in
            try ownerStillCurrent(client, .replicaSets, replicaSet)
        }
        let owned = try claimer.claim(candidates)
        let active = owned.filter(\.isActivePod)

        // Until the informer has seen our own creates and deletes, the pod list is behind.
        let caughtUp = expectations.isSatisfied(key)
        if caughtUp, !replicaSet.isTerminating {
            do {
                try deleteFinished(owned.filter { $0.isFinishedPod && !$0.isTerminating })
                try manageReplicas(replicaSet, active: active, key: key)
            } catch let error as KubeError where error.isConflict || error.isNotFound {
                throw error  // a race with another writer, not a failure to report
            } catch {
                // Shown as the ReplicaFailure condition (e.g. a namespace being deleted refuses pods).
                let failure = (reason: error is CreateFailure ? "FailedCreate" : "FailedDelete", message: "\(error)")
                _ = try? writeStatus(replicaSet, active: active, failure: failure)
                throw error
            }
        }
        let result = try writeStatus(replicaSet, active: active, failure: nil)
        return .soonest(result.delay, caughtUp ? nil : expectations.timeout)
    }

    private struct CreateFailure: Error, CustomStringConvertible {
        let underlying: Error
        var description: String { "\(underlying)" }
    }

    private func manageReplicas(_ replicaSet: JSONValue, active: [JSONValue], key: String) throws {
        let spec = ReplicaSet(json: replicaSet).spec
        let wanted = Int(max(0, spec.replicas ?? 1))
        let difference = active.count - wanted
        if difference < 0 {
            let count = min(-difference, Self.burst)
            expectations.expectCreations(key, count: count)
            let pod = PodTemplate.pod(from: spec.template, owner: replicaSet, kind: .replicaSet)
            for index in 0..<count {
                do {
                    let created = try client.create(.pods, namespace: replicaSet.namespace, pod)
                    events.record(replicaSet, .normal, reason: "SuccessfulCreate", message: "Created pod: \(created.name ?? "")")
                } catch {
                    for _ in index..<count { expectations.creationObserved(key) }
                    events.record(replicaSet, .warning, reason: "FailedCreate", message: "Error creating: \(error)")
                    throw CreateFailure(underlying: error)
                }
            }
        } else if difference > 0 {
            let victims = Array(PodDeletionOrder.sorted(active, now: clock.now).prefix(min(difference, Self.burst)))
            expectations.expectDeletions(key, uids: victims.compactMap(\.uid))
            var firstError: Error?
            for pod in victims {
                guard let name = pod.name, let uid = pod.uid else { continue }
                do {
                    try client.delete(.pods, namespace: pod.namespace, name: name, preconditionUID: uid)
                    events.record(replicaSet, .normal, reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
                } catch {
                    expectations.deletionObserved(key, uid: uid)
                    if let error = error as? KubeError, error.isNotFound { continue }
                    firstError = firstError ?? error
                }
            }
            if let firstError { throw firstError }
        }
    }

    /// Finished pods hold nothing but their record; their replacements are already counted.
    private func deleteFinished(_ pods: [JSONValue]) throws {
        for pod in pods {
            guard let name = pod.name else { continue }
            do {
                try client.delete(.pods, namespace: pod.namespace, name: name, preconditionUID: pod.uid)
            } catch let error as KubeError where error.isNotFound {}
        }
    }

    // MARK: - Status

    private func writeStatus(_ replicaSet: JSONValue, active: [JSONValue],
                             failure: (reason: String, message: String)?) throws -> ReconcileResult {
        let now = clock.now
        let object = ReplicaSet(json: replicaSet)
        let minReadySeconds = object.spec.minReadySeconds ?? 0
        let templateLabels = object.spec.template.metadata.labels
        var status = object.status
        status.replicas = Int64(active.count)
        status.fullyLabeledReplicas = Int64(active.filter { pod in
            let labels = pod.labels
            return templateLabels.allSatisfy { labels[$0.key] == $0.value }
        }.count)
        status.readyReplicas = Int64(active.filter(\.isReadyPod).count)
        status.availableReplicas = Int64(active.filter { $0.isAvailablePod(minReadySeconds: minReadySeconds, now: now) }.count)
        status.observedGeneration = object.metadata.generation ?? 1
        var conditions = Conditions(status.json)
        if let failure {
            conditions.set("ReplicaFailure", status: "True", reason: failure.reason, message: failure.message, now: KubeTime.format(now))
        } else {
            conditions.remove("ReplicaFailure")
        }
        status.json["conditions"] = conditions.json
        if status.json != object.status.json {
            var updated = object
            updated.status = status
            // Status is recomputed from the pods each time: the newest computation wins.
            updated.metadata.resourceVersion = nil
            _ = try client.update(.replicaSets, updated.json, subresource: "status")
        }
        // A pod ready but not yet for minReadySeconds becomes available without an event.
        let waiting = active.compactMap { pod -> TimeInterval? in
            guard minReadySeconds > 0, pod.isReadyPod, let since = pod.readySince else { return nil }
            let remaining = since.addingTimeInterval(Double(minReadySeconds)).timeIntervalSince(now)
            return remaining > 0 ? remaining : nil
        }
        return .soonest(waiting.min().map { $0 + 0.05 })
    }
}
