import FairKube
import FairSupport
import Foundation

/// The scheduler: binds each pending pod to a node that can run it (kube-scheduler's filter →
/// score → bind, for the plugins a single-machine cluster needs).
///
/// Informers keep the pods and nodes current; their handlers only update the cache and queue
/// keys. One thread makes every decision over the cache, so decisions never race each other;
/// the decided pod is assumed onto its node at once and the binding is sent by a pool of worker
/// threads, so the next decision does not wait for the API. Pods that fit nowhere get a
/// `PodScheduled=False` condition saying why and are retried with back-off, or at once when a
/// node or a placed pod changes.
public final class Scheduler: @unchecked Sendable {
    public let options: SchedulerOptions
    let client: KubeClient
    let pods: Informer
    let nodes: Informer
    /// Claims, volumes and classes, for the pods that name claims (VolumeBinding).
    let claims: Informer
    let volumes: Informer
    let storageClasses: Informer
    let cache = SchedulerCache()
    let verdicts = LatestVerdicts()
    let queue: SchedulingQueue
    let events: EventRecorder
    private(set) var writers: ThreadPool?

    private let state = NSCondition()
    private var started = false
    private var stopped = false
    private var loopRunning = false
    private var counters = SchedulerStatistics()
    private var lastErrorLog = Date.distantPast

    public init(client: KubeClient, options: SchedulerOptions = .init()) {
        self.client = client
        self.options = options
        pods = Informer(client: client, resource: .pods)
        nodes = Informer(client: client, resource: .nodes)
        claims = Informer(client: client, resource: .persistentVolumeClaims)
        volumes = Informer(client: client, resource: .persistentVolumes)
        storageClasses = Informer(client: client, resource: .storageClasses)
        queue = SchedulingQueue(clock: options.clock)
        events = EventRecorder(client: client, component: options.name, clock: options.clock,
                               normalPerSecond: options.scheduledEventsPerSecond, normalBurst: options.scheduledEventBurst)
    }

    public func start() {
        state.lock()
        guard !started && !stopped else { return state.unlock() }
        started = true
        loopRunning = true
        writers = ThreadPool(name: "\(options.name) writer", maxThreads: options.bindWorkers)
        state.unlock()

        nodes.addHandler { [weak self] event in self?.nodeChanged(event) }
        pods.addHandler { [weak self] event in self?.podChanged(event) }
        // A claim bound, or a volume or class appearing, can make a waiting pod schedulable.
        for informer in [claims, volumes, storageClasses] {
            informer.addHandler { [weak self] event in
                if case .deleted = event { return }
                self?.queue.moveAllToActive()
            }
        }
        nodes.start()
        pods.start()
        claims.start()
        volumes.start()
        storageClasses.start()
        let thread = Thread { [self] in decisionLoop() }
        thread.name = "\(options.name) decisions"
        thread.start()
    }

    /// Stops deciding and writing. Bindings already sent finish; queued ones are dropped (the
    /// pods stay pending, for the next scheduler to pick up).
    public func stop() {
        state.lock()
        guard started && !stopped else {
            stopped = true
            return state.unlock()
        }
        stopped = true
        state.unlock()
        queue.close()
        nodes.stop()
        pods.stop()
        claims.stop()
        volumes.stop()
        storageClasses.stop()
        state.lock()
        let deadline = Date().addingTimeInterval(10)
        while loopRunning && state.wait(until: deadline) {}
        let writers = self.writers
        state.unlock()
        writers?.stop()
        events.stop()
    }

    /// Blocks until both informers have their first lists (the scheduler decides only then).
    @discardableResult
    public func waitUntilSynced(timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return [nodes, pods, claims, volumes, storageClasses].allSatisfy { $0.waitUntilSynced(timeout: max(0, deadline.timeIntervalSinceNow)) }
    }

    public var statistics: SchedulerStatistics {
        state.lock(); defer { state.unlock() }
        var snapshot = counters
        snapshot.eventsWritten = events.writtenCount
        snapshot.eventsDropped = events.droppedCount
        snapshot.pending = queue.pendingCount
        return snapshot
    }

    var isStopped: Bool {
        state.lock(); defer { state.unlock() }
        return stopped
    }

    func count(_ update: (inout SchedulerStatistics) -> Void) {
        state.lock(); defer { state.unlock() }
        update(&counters)
    }

    /// Errors the scheduler cannot act on (the API away): logged, at most one a second.
    func logError(_ message: String) {
        state.lock()
        let now = Date()
        let due = now.timeIntervalSince(lastErrorLog) >= 1
        if due { lastErrorLog = now }
        state.unlock()
        if due { FileHandle.standardError.write(Data("\(options.name): \(message)\n".utf8)) }
    }

    // MARK: - Informer handlers (keep them short: cache and queue only)

    private func nodeChanged(_ event: InformerEvent) {
        switch event {
        case let .added(node), let .updated(_, node):
            // Heartbeats change nothing the filters read; only real changes wake waiting pods.
            if cache.setNode(SchedulableNode(node)) { queue.moveAllToActive() }
        case let .deleted(node):
            cache.removeNode(named: node.name ?? "")
        }
    }

    private func podChanged(_ event: InformerEvent) {
        switch event {
        case let .added(pod):
            cache.updatePod(pod)
            if awaitsScheduling(pod) { queue.add(Informer.key(pod)) }
        case let .updated(old, pod):
            if cache.updatePod(pod) { queue.moveAllToActive() }
            if awaitsScheduling(pod) {
                // Our own status writes come back as updates too; only a changed spec or labels
                // can change the verdict.
                if !awaitsScheduling(old) || Pod(json: old).spec.json != Pod(json: pod).spec.json || old.metadata.json["labels"] != pod.metadata.json["labels"] {
                    queue.add(Informer.key(pod))
                }
            } else if pod.podNodeName != nil {
                queue.forget(Informer.key(pod))
            }
        case let .deleted(pod):
            queue.forget(Informer.key(pod))
            verdicts.forget(Informer.key(pod))
            if cache.removePod(pod) { queue.moveAllToActive() }
        }
    }

    /// Unbound, ours, and neither going away nor finished.
    func awaitsScheduling(_ pod: JSONValue) -> Bool {
        guard pod.podNodeName == nil, !pod.isTerminating, !pod.podHasFinished else { return false }
        let name = Pod(json: pod).spec.schedulerName ?? ""
        return name.isEmpty || name == options.name
    }

    // MARK: - Deciding

    private func decisionLoop() {
        defer {
            state.lock()
            loopRunning = false
            state.broadcast()
            state.unlock()
        }
        // Deciding on a partial picture would overcommit nodes (pods not listed yet) or fail
        // pods for want of nodes not listed yet.
        while !isStopped && !waitUntilSynced(timeout: 1) {}
        while let (key, cycle) = queue.pop() {
            guard let pod = pods.get(key) else {
                queue.forget(key)
                continue
            }
            guard awaitsScheduling(pod) else { continue }
            var candidate = SchedulingPod(pod)
            if cache.isPlaced(key: key, uid: candidate.uid) { continue }
            // A group's waiting pods are decided together, each with its own volume verdict.
            if let group = PodGroup(pod), scheduleGroup(group, cycle: cycle) { continue }
            var claimsToProvision: [String]?
            switch VolumeBinding(claims: claims, volumes: volumes, classes: storageClasses).verdict(for: pod) {
            case let .ready(terms):
                candidate.volumeTerms = terms
            case let .provision(terms, waiting):
                candidate.volumeTerms = terms
                claimsToProvision = waiting
            case let .unschedulable(reason):
                holdBack(pod, message: FitFailure.onEveryNode(reason, nodeCount: cache.nodeCount).message, cycle: cycle)
                continue
            }
            switch cache.schedule(candidate) {
            case let .success(node) where claimsToProvision != nil:
                // Not bound yet: its claims first get volumes on this node; the pod is decided
                // again once they are bound (the claims' changes wake it).
                cache.forget(key: key, uid: candidate.uid)
                queue.backOff(key, cycle: cycle)
                let waiting = claimsToProvision ?? []
                writers?.submit { [self] in selectNode(node, forClaims: waiting, of: candidate) }
            case let .success(node):
                writers?.submit { [self] in bind(candidate, to: node, cycle: cycle) }
            case let .failure(failure):
                holdBack(pod, message: failure.message, cycle: cycle)
            }
        }
    }
}

/// Counters for monitoring and benchmarks.
public struct SchedulerStatistics: Sendable {
    /// Bindings the API server accepted.
    public var scheduled = 0
    /// Attempts that found no node.
    public var unschedulableAttempts = 0
    /// Bindings the API server refused or never answered.
    public var bindingErrors = 0
    public var eventsWritten = 0
    public var eventsDropped = 0
    /// Pods queued or waiting out a back-off.
    public var pending = 0
}
