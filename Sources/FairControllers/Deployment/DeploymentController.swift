import FairKube
import FairSupport
import Foundation

/// apps/v1 Deployments: one ReplicaSet per pod template (`<name>-<pod-template-hash>`), rolled
/// from old to new with the RollingUpdate or Recreate strategy, old ones kept (at zero) up to
/// `revisionHistoryLimit`, and a status `kubectl rollout status` can follow.
final class DeploymentController: QueuedController {
    override var name: String { "deployment-controller" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder
    private let clock: WallClock

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        events = context.events("deployment-controller")
        clock = context.clock
        super.init()
        informers.deployments.addHandler { [weak self] event in self?.enqueue(Informer.key(event.object)) }
        informers.replicaSets.addHandler { [weak self] event in self?.replicaSetChanged(event) }
        informers.pods.addHandler { [weak self] event in self?.podChanged(event) }
    }

    // MARK: - Events

    private func replicaSetChanged(_ event: InformerEvent) {
        switch event {
        case let .added(replicaSet), let .deleted(replicaSet):
            if let key = replicaSet.controllerKey(ofKind: .deployment) {
                enqueue(key)
            } else if replicaSet.controllerReference == nil, case .added = event {
                enqueueMatching(replicaSet)
            }
        case let .updated(old, new):
            let oldKey = old.controllerKey(ofKind: .deployment), newKey = new.controllerKey(ofKind: .deployment)
            enqueue(newKey)
            if oldKey != newKey { enqueue(oldKey) }
            if new.controllerReference == nil, old.labels != new.labels || old.controllerReference != nil {
                enqueueMatching(new)
            }
        }
    }

    private func enqueueMatching(_ replicaSet: JSONValue) {
        for deployment in informers.deployments.list(namespace: replicaSet.namespace)
        where LabelSelector(object: Deployment(json: deployment).spec.selector ?? [:]).matches(replicaSet.labels) {
            enqueue(Informer.key(deployment))
        }
    }

    /// Recreate waits for the old pods to be gone, which only pod events tell.
    private func podChanged(_ event: InformerEvent) {
        if case .added = event { return }
        guard let replicaSetKey = event.object.controllerKey(ofKind: .replicaSet),
              let key = informers.replicaSets.get(replicaSetKey)?.controllerKey(ofKind: .deployment),
              let deployment = informers.deployments.get(key), Deployment(json: deployment).spec.strategy.type == "Recreate" else { return }
        enqueue(key)
    }

    // MARK: - Reconcile

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let deployment = informers.deployments.get(key) else { return .done }
        let selector = LabelSelector(object: Deployment(json: deployment).spec.selector ?? [:])
        if selector.isEmpty {
            events.record(deployment, .warning, reason: "SelectingAll",
                          message: "This deployment is selecting all pods. A non-empty selector is required.")
            return .done
        }
        let spec: EffectiveDeploymentSpec
        do {
            spec = try EffectiveDeploymentSpec(deployment)
        } catch {
            events.record(deployment, .warning, reason: "InvalidStrategy", message: "\(error)")
            return .done
        }
        let candidates = informers.replicaSets.list(namespace: deployment.namespace) {
            $0.isControlled(by: deployment) || $0.controllerReference == nil
        }
        let claimer = ControllerRefClaimer(client: client, owner: deployment, kind: .deployment, dependents: .replicaSets,
                                           selector: selector) { [client] in
            try ownerStillCurrent(client, .deployments, deployment)
        }
        let owned = try claimer.claim(candidates).sorted(by: Self.olderFirst)
        let template = Deployment(json: deployment).spec.template.json
        var current = owned.first { TemplateHash.equalIgnoringHash(ReplicaSet(json: $0).spec.template.json, template) }
        var old = owned.filter { $0.uid != current?.uid }
        let scaler = ReplicaSetScaler(client: client, deployment: deployment, spec: spec, events: events)

        if deployment.isTerminating || spec.paused {
            return try syncStatus(deployment, spec: spec, current: current, old: old, createdNew: nil)
        }

        let revision = (old.map(\.revision).max() ?? 0) + 1
        var createdNew: String?
        if let existing = current {
            let marked = try scaler.markRevision(existing, revision)
            try annotateRevision(deployment, marked.revision)
            current = marked
        }
        let rollout = DeploymentRollout(spec: spec, scaler: scaler, pods: informers.pods)
        if spec.isRecreate {
            let step = try rollout.recreate(current: current, old: &old)
            if step == .waiting { return try syncStatus(deployment, spec: spec, current: current, old: old, createdNew: nil) }
            if current == nil {
                current = try createReplicaSet(deployment, scaler: scaler, revision: revision, replicas: spec.replicas)
                createdNew = current?.name
                try annotateRevision(deployment, revision)
            } else if let existing = current {
                current = try scaler.scale(existing, to: spec.replicas)
            }
        } else {
            if current == nil {
                let replicas = rollout.replicasForNew(current: nil, old: old)
                current = try createReplicaSet(deployment, scaler: scaler, revision: revision, replicas: replicas)
                createdNew = current?.name
                try annotateRevision(deployment, revision)
            } else if let existing = current, try rollout.reconcileNew(existing, old: old) != existing.specReplicas {
                // Scaled: the next step waits for the ReplicaSet's status to reflect it.
                return try syncStatus(deployment, spec: spec, current: current, old: old, createdNew: nil)
            }
            if let new = current, try rollout.scaleDownOld(current: new, old: &old) {
                return try syncStatus(deployment, spec: spec, current: current, old: old, createdNew: createdNew)
            }
        }
        if let new = current, Self.isComplete(spec: spec, current: new, old: old) {
            try cleanUp(old: old, limit: spec.revisionHistoryLimit)
        }
        return try syncStatus(deployment, spec: spec, current: current, old: old, createdNew: createdNew)
    }

    static func olderFirst(_ a: JSONValue, _ b: JSONValue) -> Bool {
        let createdA = a.createdAt ?? .distantPast, createdB = b.createdAt ?? .distantPast
        return createdA != createdB ? createdA < createdB : (a.name ?? "") < (b.name ?? "")
    }

    /// Creates the ReplicaSet for the current template. A ReplicaSet of that name that is not
    /// this template's (a hash collision) bumps `status.collisionCount`, and the next try uses
    /// another name.
    private func createReplicaSet(_ deployment: JSONValue, scaler: ReplicaSetScaler, revision: Int64, replicas: Int64) throws -> JSONValue {
        do {
            return try scaler.create(revision: revision, replicas: replicas)
        } catch let error as KubeError where error.code == 409 {
            var updated = Deployment(json: deployment)
            let hash = TemplateHash.compute(updated.spec.template.json, collisionCount: updated.status.collisionCount)
            let existing = try client.get(.replicaSets, namespace: deployment.namespace, name: "\(deployment.name ?? "")-\(hash)")
            if existing.isControlled(by: deployment),
               TemplateHash.equalIgnoringHash(ReplicaSet(json: existing).spec.template.json, updated.spec.template.json) {
                return existing  // ours, not yet in the cache
            }
            updated.status.collisionCount = (updated.status.collisionCount ?? 0) + 1
            _ = try client.update(.deployments, updated.json, subresource: "status")
            throw KubeError(code: 409, reason: "Conflict",
                            message: "replica set \(existing.name ?? "") exists with another template; retrying with a new collision count")
        }
    }

    /// Keeps `deployment.kubernetes.io/revision` on the Deployment equal to its current
    /// ReplicaSet's.
    private func annotateRevision(_ deployment: JSONValue, _ revision: Int64) throws {
        let text = String(revision)
        guard revision > 0, deployment.metadata.annotations[EffectiveDeploymentSpec.revisionAnnotation] != text else {
            return
        }
        _ = try client.mergePatch(.deployments, namespace: deployment.namespace, name: deployment.name ?? "",
                                  ["metadata": ["annotations": [EffectiveDeploymentSpec.revisionAnnotation: .string(text)],
                                                "resourceVersion": .string(deployment.resourceVersion ?? "")]])
    }

    static func isComplete(spec: EffectiveDeploymentSpec, current: JSONValue, old: [JSONValue]) -> Bool {
        current.specReplicas == spec.replicas && current.availableReplicas == spec.replicas
            && old.allSatisfy { $0.specReplicas == 0 && $0.statusReplicas == 0 }
    }

    /// Deletes the oldest idle ReplicaSets beyond the history limit.
    private func cleanUp(old: [JSONValue], limit: Int64) throws {
        let excess = old.filter { !$0.isTerminating }.count - Int(limit)
        guard excess > 0 else { return }
        let idle = old.filter { replicaSet in
            replicaSet.specReplicas == 0 && replicaSet.statusReplicas == 0 && !replicaSet.isTerminating
                && (ReplicaSet(json: replicaSet).status.observedGeneration ?? 0) >= (replicaSet.metadata.generation ?? 1)
        }.sorted { ($0.revision, $0.createdAt ?? .distantPast) < ($1.revision, $1.createdAt ?? .distantPast) }
        for replicaSet in idle.prefix(excess) {
            do {
                try client.delete(.replicaSets, namespace: replicaSet.namespace, name: replicaSet.name ?? "",
                                  propagation: "Background", preconditionUID: replicaSet.uid)
            } catch let error as KubeError where error.isNotFound {}
        }
    }

    private func syncStatus(_ deployment: JSONValue, spec: EffectiveDeploymentSpec, current: JSONValue?, old: [JSONValue],
                            createdNew: String?) throws -> ReconcileResult {
        let now = clock.now
        let computed = ComputedDeploymentStatus(deployment: deployment, spec: spec, current: current, old: old,
                                        createdNew: createdNew, now: now)
        var updated = Deployment(json: deployment)
        if computed.status != deployment["status"] {
            updated.status = FairKube.DeploymentStatus(json: computed.status)
            // Recomputed from the ReplicaSets each time: the newest computation wins.
            updated.metadata.resourceVersion = nil
            _ = try client.update(.deployments, updated.json, subresource: "status")
        }
        return .soonest(computed.checkProgressAfter)
    }
}
