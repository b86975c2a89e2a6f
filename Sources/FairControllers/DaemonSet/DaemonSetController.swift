import FairKube
import FairSupport
import Foundation

/// apps/v1 DaemonSets: one pod on each node the template fits (`DaemonNodeFit`), pinned there by
/// node affinity and bound by the scheduler; pods leave nodes that stop fitting, duplicates and
/// failed pods are removed, a RollingUpdate replaces old pods within maxUnavailable, and the
/// status counts nodes as `kubectl get ds` shows them. (kube's daemon_controller.go.)
final class DaemonSetController: QueuedController {
    override var name: String { "daemonset-controller" }

    private let client: KubeClient
    private let informers: SharedInformers
    private let events: EventRecorder
    let expectations: Expectations
    private let clock: WallClock

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        events = context.events("daemonset-controller")
        clock = context.clock
        expectations = Expectations(clock: context.clock)
        super.init()
        informers.daemonSets.addHandler { [weak self] event in
            let key = Informer.key(event.object)
            if case .deleted = event { self?.expectations.forget(key) }
            self?.enqueue(key)
        }
        informers.pods.addHandler { [weak self] event in self?.podChanged(event) }
        informers.nodes.addHandler { [weak self] event in self?.nodeChanged(event) }
    }

    // MARK: - Events

    private func podChanged(_ event: InformerEvent) {
        switch event {
        case let .added(pod):
            if let key = pod.controllerKey(ofKind: .daemonSet) {
                expectations.creationObserved(key)
                if pod.isTerminating, let uid = pod.uid { expectations.deletionObserved(key, uid: uid) }
                enqueue(key)
            } else if pod.controllerReference == nil {
                enqueueMatching(pod)
            }
        case let .updated(old, new):
            let oldKey = old.controllerKey(ofKind: .daemonSet), newKey = new.controllerKey(ofKind: .daemonSet)
            if let newKey, new.isTerminating, let uid = new.uid { expectations.deletionObserved(newKey, uid: uid) }
            enqueue(newKey)
            if oldKey != newKey { enqueue(oldKey) }
            if new.controllerReference == nil, old.labels != new.labels || old.controllerReference != nil {
                enqueueMatching(new)
            }
        case let .deleted(pod):
            guard let key = pod.controllerKey(ofKind: .daemonSet) else { return }
            if let uid = pod.uid { expectations.deletionObserved(key, uid: uid) }
            enqueue(key)
        }
    }

    private func enqueueMatching(_ pod: JSONValue) {
        for daemonSet in informers.daemonSets.list(namespace: pod.namespace)
        where LabelSelector(object: DaemonSet(json: daemonSet).spec.selector ?? [:]).matches(pod.labels) {
            enqueue(Informer.key(daemonSet))
        }
    }

    /// A node that came, went, or changed what decides fit (labels, taints): every set looks.
    /// Heartbeats (status only) change nothing here.
    private func nodeChanged(_ event: InformerEvent) {
        if case let .updated(old, new) = event, old.labels == new.labels, old["spec"] == new["spec"] { return }
        for daemonSet in informers.daemonSets.list() { enqueue(Informer.key(daemonSet)) }
    }

    // MARK: - Reconcile

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let daemonSet = informers.daemonSets.get(key) else {
            expectations.forget(key)
            return .done
        }
        let object = DaemonSet(json: daemonSet)
        let selector = LabelSelector(object: object.spec.selector ?? [:])
        let candidates = informers.pods.list(namespace: daemonSet.namespace) {
            $0.isControlled(by: daemonSet) || $0.controllerReference == nil
        }
        let claimer = ControllerRefClaimer(client: client, owner: daemonSet, kind: .daemonSet, dependents: .pods,
                                           selector: selector) { [client] in
            try ownerStillCurrent(client, .daemonSets, daemonSet)
        }
        let owned = try claimer.claim(candidates).filter { !($0.isTerminating && $0.isFinishedPod) }
        let hash = TemplateHash.compute(object.spec.template.json, collisionCount: object.status.collisionCount ?? 0)
        let nodes = informers.nodes.list()
        let template = DaemonPodTemplate.specWithTolerations(object.spec.template.spec)
        let fits = Dictionary(nodes.map { ($0.name ?? "", DaemonNodeFit(template: template, node: $0)) }) { first, _ in first }
        var podsByNode: [String: [JSONValue]] = [:]
        var lost: [JSONValue] = []
        for pod in owned {
            guard let node = DaemonPodTemplate.targetNode(of: pod) else { continue }
            if fits[node] == nil { lost.append(pod) } else { podsByNode[node, default: []].append(pod) }
        }

        if expectations.isSatisfied(key), !daemonSet.isTerminating {
            let acted = try manage(daemonSet, key: key, fits: fits, podsByNode: podsByNode, lost: lost, hash: hash)
            if !acted, object.spec.updateStrategyType != "OnDelete" {
                let desired = fits.values.filter(\.shouldRun).count
                let maxUnavailable = try resolvedMaxUnavailable(object, desired: desired)
                let update = DaemonSetRollingUpdate(hash: hash, minReadySeconds: object.spec.minReadySeconds ?? 0, now: clock.now)
                try delete(update.podsToDelete(podsByNode: podsByNode.filter { fits[$0.key]?.shouldRun == true },
                                               maxUnavailable: maxUnavailable), of: daemonSet, key: key)
            }
        }
        let delay = try writeStatus(daemonSet, fits: fits, podsByNode: podsByNode, hash: hash)
        return .soonest(delay, expectations.isSatisfied(key) ? nil : expectations.timeout)
    }

    /// kube's manage and podsShouldBeOnNode. Returns whether it created or deleted anything.
    private func manage(_ daemonSet: JSONValue, key: String, fits: [String: DaemonNodeFit],
                        podsByNode: [String: [JSONValue]], lost: [JSONValue], hash: String) throws -> Bool {
        var create: [String] = []
        // Pods of nodes that are gone hold nothing any more (kube's pod GC removes them).
        var remove = lost.filter { !$0.isTerminating }
        for (node, fit) in fits.sorted(by: { $0.key < $1.key }) {
            let pods = podsByNode[node] ?? []
            guard fit.shouldContinueRunning else {
                remove += pods.filter { !$0.isTerminating }
                continue
            }
            // A pod that ended is replaced; restartPolicy Always makes that rare.
            let finished = pods.filter { !$0.isTerminating && $0.isFinishedPod }
            let running = pods.filter { !$0.isTerminating && !$0.isFinishedPod }
            remove += finished
            if running.isEmpty {
                if fit.shouldRun { create.append(node) }
            } else if running.count > 1 {
                // Duplicates: the oldest stays.
                let sorted = running.sorted { ($0.createdAt ?? .distantFuture, $0.name ?? "") < ($1.createdAt ?? .distantFuture, $1.name ?? "") }
                remove += sorted.dropFirst()
            }
        }
        if !create.isEmpty {
            expectations.expectCreations(key, count: create.count)
            for (index, node) in create.enumerated() {
                do {
                    let created = try client.create(.pods, namespace: daemonSet.namespace, DaemonPodTemplate.pod(daemonSet, node: node, hash: hash))
                    events.record(daemonSet, .normal, reason: "SuccessfulCreate", message: "Created pod: \(created.name ?? "")")
                } catch {
                    for _ in index..<create.count { expectations.creationObserved(key) }
                    events.record(daemonSet, .warning, reason: "FailedCreate", message: "Error creating: \(error)")
                    throw error
                }
            }
        }
        try delete(remove, of: daemonSet, key: key)
        return !create.isEmpty || !remove.isEmpty
    }

    private func delete(_ pods: [JSONValue], of daemonSet: JSONValue, key: String) throws {
        guard !pods.isEmpty else { return }
        expectations.expectDeletions(key, uids: pods.compactMap(\.uid))
        var firstError: Error?
        for pod in pods {
            guard let name = pod.name, let uid = pod.uid else { continue }
            do {
                try client.delete(.pods, namespace: pod.namespace, name: name, preconditionUID: uid)
                events.record(daemonSet, .normal, reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
            } catch {
                expectations.deletionObserved(key, uid: uid)
                if let error = error as? KubeError, error.isNotFound { continue }
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// maxUnavailable of the nodes that should run a pod, rounded up; at least one when
    /// maxSurge is 0 too, so a rollout always moves (kube's unavailableCount).
    private func resolvedMaxUnavailable(_ object: DaemonSet, desired: Int) throws -> Int {
        let value = try IntOrPercent.resolve(object.spec.maxUnavailable, field: "spec.updateStrategy.rollingUpdate.maxUnavailable",
                                             total: Int64(desired), roundUp: true, default: .int(1))
        return max(1, Int(value))
    }

    // MARK: - Status

    /// kube's updateDaemonSetStatus: per node that should run the pod, whether it has one and
    /// whether the oldest is ready, available and of the current template; pods on nodes that
    /// should not run one are misscheduled.
    private func writeStatus(_ daemonSet: JSONValue, fits: [String: DaemonNodeFit],
                             podsByNode: [String: [JSONValue]], hash: String) throws -> TimeInterval? {
        let now = clock.now
        let object = DaemonSet(json: daemonSet)
        let minReadySeconds = object.spec.minReadySeconds ?? 0
        var desired: Int64 = 0, current: Int64 = 0, misscheduled: Int64 = 0
        var ready: Int64 = 0, available: Int64 = 0, updated: Int64 = 0
        var waiting: [TimeInterval] = []
        for (node, fit) in fits {
            let pods = (podsByNode[node] ?? []).sorted { ($0.createdAt ?? .distantFuture) < ($1.createdAt ?? .distantFuture) }
            guard fit.shouldRun else {
                if !pods.isEmpty { misscheduled += 1 }
                continue
            }
            desired += 1
            guard let pod = pods.first else { continue }
            current += 1
            if pod.isReadyPod {
                ready += 1
                if pod.isAvailablePod(minReadySeconds: minReadySeconds, now: now) {
                    available += 1
                } else if let since = pod.readySince {
                    waiting.append(since.addingTimeInterval(Double(minReadySeconds)).timeIntervalSince(now))
                }
            }
            if pod.labels[DaemonPodTemplate.revisionLabel] == hash { updated += 1 }
        }
        var status = object.status
        status.observedGeneration = object.metadata.generation ?? 1
        status.desiredNumberScheduled = desired
        status.currentNumberScheduled = current
        status.numberMisscheduled = misscheduled
        status.numberReady = ready
        status.numberAvailable = available
        status.numberUnavailable = desired - available > 0 ? desired - available : nil
        status.updatedNumberScheduled = updated
        if status.json != object.status.json {
            var changed = object
            changed.status = status
            changed.metadata.resourceVersion = nil
            _ = try client.update(.daemonSets, changed.json, subresource: "status")
        }
        return waiting.filter { $0 > 0 }.min().map { $0 + 0.05 }
    }
}
