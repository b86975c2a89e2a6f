import FairKube
import FairSupport
import Foundation

/// The node agent (kubelet): registers a Node, keeps its heartbeat, runs the pods bound to it
/// with a `ContainerRuntime`, reports their status, and serves their logs.
///
/// It is cheap to run many in one process (the scheduling benchmark runs a hundred with
/// `FakeRuntime`): one pod informer per agent, filtered to its node; all other work is keys on a
/// work queue served by the process-wide thread pool and timers, so an idle agent holds no
/// thread but its informer's.
public final class NodeAgent: @unchecked Sendable {
    public let options: NodeOptions
    private let client: KubeClient
    private let runtime: ContainerRuntime
    private let runtimeDescription: RuntimeDescription
    private let network: PodNetwork
    private let store: PodStateStore
    /// Which CDI devices each pod holds, kept on disk so a restart adopts them.
    private let deviceAllocations: DeviceAllocations
    private let addresses: PodIPAllocator
    private let records = PodRecords()
    private let usage = UsageHistory()
    /// How often containers' cgroups are read for `kubectl top`: the window of its rates.
    static let usageSamplingInterval: TimeInterval = 5
    private let loop: ReconcileLoop
    private var queue: WorkQueue { loop.queue }
    private let log: @Sendable (String) -> Void

    private let lock = NSLock()
    private var informer: Informer?
    private var services: Informer?
    private var syncer: PodSyncer?
    private var registration: NodeRegistration?
    private var logServer: LogServer?
    private var started = false
    /// The pin of the log server's key, as the Node publishes it (nil: logs are not served).
    private(set) var servingPin: String?

    public init(client: KubeClient, options: NodeOptions, runtime: ContainerRuntime) throws {
        network = try options.validated()
        self.options = options
        self.client = client
        self.runtime = runtime
        runtimeDescription = RuntimeDescription(runtime)
        store = PodStateStore(dataDirectory: options.dataDirectory)
        deviceAllocations = DeviceAllocations(path: "\(options.dataDirectory)/devices/allocations.json")
        addresses = PodIPAllocator(network: network)
        let name = options.name
        let log: @Sendable (String) -> Void = { message in FileHandle.standardError.write(Data("node \(name): \(message)\n".utf8)) }
        self.log = log
        let keys = AgentKeys()
        // A failing key ("pod:<uid>", "node", "relist") is a server away or a runtime hiccup:
        // retried quietly from 0.2 s doubling to 30 s. Pods sync in parallel, up to 32 at a time.
        loop = ReconcileLoop(keys, workers: 32, backOff: WorkQueue.BackOff(base: 0.2, maximum: 30), log: log)
        do {
            try PrivateDirectory.ensure(options.dataDirectory)
            try PrivateDirectory.ensure(store.root)
        } catch {
            throw NodeOptionsError(description: "cannot create the node's data directory \(options.dataDirectory): \(error)")
        }
        keys.agent = self
    }

    /// The log server's port (valid after `start`).
    public var kubeletPort: Int {
        lock.lock(); defer { lock.unlock() }
        return logServer?.port ?? 0
    }

    private func setStarted(_ value: Bool) {
        lock.lock()
        started = value
        lock.unlock()
    }

    /// Adopts what a previous run left, serves logs, registers the Node and starts the loops.
    /// Throws when the Node cannot be registered (the API server is unreachable or refuses).
    public func start() throws {
        lock.lock()
        guard !started else { lock.unlock(); return }
        started = true
        lock.unlock()

        // Logs are served only to the API server, over TLS; a node that cannot tell the API
        // server's requests apart (no authority in its kubeconfig) runs pods without them.
        var logServer: LogServer?
        do {
            let tls = try NodeServingIdentity.make(nodeName: options.name, addresses: [NodeRegistration.internalIP],
                                                   issuer: options.servingCertificateIssuer, config: client.config)
            logServer = LogServer(port: options.kubeletPort, tls: tls) { [weak self] namespace, pod, container, previous in
                guard let self else { throw ContainerLogError.notFound("the node agent has stopped") }
                return try self.logSource(namespace: namespace, pod: pod, container: container, previous: previous)
            } exec: { [weak self] namespace, pod, container in
                guard let self else { throw ContainerLogError.notFound("the node agent has stopped") }
                return try self.execTarget(namespace: namespace, pod: pod, container: container)
            } pod: { [weak self] namespace, pod in
                guard let self else { throw ContainerLogError.notFound("the node agent has stopped") }
                return try self.podAddress(namespace: namespace, pod: pod)
            } summary: { [weak self] in
                self?.usageSummary() ?? [:]
            }
            servingPin = tls.publicKeyPin
        } catch let error as NodeServingIdentity.MissingAuthority {
            log("\(error)")
        } catch {
            setStarted(false)
            throw NodeRegistrationError(description: "cannot make node \(options.name)'s serving certificate: \(error)")
        }
        // The devices CDI specs describe; a spec that cannot be used is said, and the rest count.
        let devices = CDIRegistry(directories: options.cdiSpecDirectories)
        for problem in devices.problems { log(problem) }
        let registration: NodeRegistration
        do {
            try logServer?.start()
            registration = NodeRegistration(client: client, options: options, runtime: runtimeDescription,
                                            logPort: logServer?.port ?? 0, servingPin: servingPin,
                                            devices: devices.allocatable.mapValues(\.count))
            try registration.register()
        } catch {
            logServer?.stop()
            setStarted(false)
            if error is LogServer.StartError { throw error }
            throw NodeRegistrationError(description: "cannot register node \(options.name) with the API server \(client.config.server): \(error)")
        }
        adoptPreviousRun()

        let informer = Informer(client: client, resource: .pods, fieldSelector: "spec.nodeName=\(options.name)")
        let services = Informer(client: client, resource: .services)
        let allocatable = MachineInfo.current.capacity(overrides: options.capacity, devices: registration.devices)
            .compactMapValues { Quantity($0) }
        let queue = self.queue
        let pulls = ImagePulls(runtime: runtime, pool: .shared) { [weak queue] uid in queue?.add("pod:" + uid) }
        let syncer = PodSyncer(nodeName: options.name, client: client, runtime: runtime, runtimeName: runtimeDescription.name,
                               options: options, store: store, addresses: addresses, records: records, pulls: pulls,
                               allocatable: allocatable, informer: informer, services: services,
                               devices: devices, deviceAllocations: deviceAllocations)
        lock.lock()
        self.informer = informer
        self.services = services
        self.syncer = syncer
        self.registration = registration
        self.logServer = logServer
        lock.unlock()

        // A spec that cannot be used is also said where `kubectl describe node` shows it.
        if !devices.problems.isEmpty, let node = try? client.get(.nodes, name: options.name) {
            for problem in devices.problems { syncer.events.record(node, .warning, reason: "InvalidCDISpec", message: problem) }
        }
        informer.addHandler { [weak self] event in self?.podChanged(event) }
        loop.start()
        services.start()
        informer.start()
        for record in records.all { queue.add("pod:" + record.uid) }
        queue.add("node", after: options.heartbeatInterval)
        queue.add("relist", after: options.relistInterval)
        if runtime is ContainerUsageReading { queue.add("usage") }
        if runtime is ImageGarbageCollecting { queue.add("images", after: Self.imageGCInterval) }
    }

    /// How often unused images and snapshots are looked for (kubelet: every 5 minutes).
    static let imageGCInterval: TimeInterval = 300

    /// Stops the loops and the log server. Containers keep running: the next `start` with the
    /// same data directory adopts them.
    public func stop() {
        lock.lock()
        let informer = self.informer, services = self.services, logServer = self.logServer, syncer = self.syncer
        lock.unlock()
        informer?.stop()
        services?.stop()
        queue.shutDownAndWait()
        logServer?.stop()
        syncer?.events.stop()
        addresses.releaseHostClaims()
    }

    /// Stops and removes every container of this node: SIGTERM, up to `grace` for them to end,
    /// then SIGKILL, as kubelet does on a node's shutdown. For a server stopped for good from its
    /// terminal; the pods stay declared, and a later start runs them anew. Call after `stop`.
    public func stopContainers(grace: TimeInterval) {
        let ids = (try? runtime.containerIDs()) ?? []
        for id in ids { try? runtime.signal(id: id, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        func running() -> [String] {
            ids.filter { if case .running = runtime.state(id: $0) { return true } else { return false } }
        }
        while Date() < deadline, !running().isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        for id in running() { try? runtime.signal(id: id, SIGKILL) }
        let killedBy = Date().addingTimeInterval(5)
        while Date() < killedBy, !running().isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        for id in ids { try? runtime.remove(id: id) }
    }

    // MARK: - Work

    fileprivate func handle(_ key: String) throws -> ReconcileResult {
        lock.lock()
        let syncer = self.syncer, registration = self.registration
        lock.unlock()
        switch key {
        case "node":
            try registration?.heartbeat()
            return .requeue(after: options.heartbeatInterval)
        case "relist":
            relist()
            return .requeue(after: options.relistInterval)
        case "usage":
            sampleUsage()
            return .requeue(after: Self.usageSamplingInterval)
        case "images":
            (runtime as? ImageGarbageCollecting)?.collectImageGarbage()
            return .requeue(after: Self.imageGCInterval)
        default:
            guard key.hasPrefix("pod:"), let syncer else { return .done }
            return try syncer.sync(uid: String(key.dropFirst(4)))
        }
    }

    /// One reading of the node's cgroup and of each running container's.
    private func sampleUsage() {
        guard let reader = runtime as? ContainerUsageReading else { return }
        var samples: [String: CgroupSample] = [:]
        samples[Self.nodeUsageKey] = reader.nodeUsage()
        for snapshot in records.allSnapshots {
            for container in snapshot.containers.values where container.running {
                if let id = container.containerID { samples[id] = reader.usage(ofContainer: id) }
            }
        }
        usage.record(samples)
    }

    /// Container ids are `UID-NAME-RESTARTS`, so this key is never one.
    private static let nodeUsageKey = "node"

    private func usageSummary() -> JSONValue {
        let pods = records.allSnapshots.map { snapshot in
            StatsSummary.PodUsage(namespace: snapshot.namespace, name: snapshot.name, uid: snapshot.uid, containers:
                snapshot.containers.sorted { $0.key < $1.key }.compactMap { name, container in
                    guard container.running, let id = container.containerID, let used = usage.usage(id) else { return nil }
                    return StatsSummary.Container(name: name, usage: used)
                })
        }
        return StatsSummary.document(nodeName: options.name, node: usage.usage(Self.nodeUsageKey), pods: pods)
    }

    private func podChanged(_ event: InformerEvent) {
        var objects = [event.object]
        if case let .updated(old, new) = event, old.uid != new.uid { objects.append(old) }
        for object in objects {
            guard let uid = object.uid else { continue }
            if case .deleted = event {} else { records.remember(uid: uid, key: Informer.key(object)) }
            queue.add("pod:" + uid)
        }
    }

    /// Kubelet's PLEG: asks the runtime about every container last seen running and syncs the
    /// pods where one stopped. For the fake runtime this is a dictionary look-up per container.
    private func relist() {
        for snapshot in records.allSnapshots {
            for container in snapshot.containers.values where container.running {
                guard let id = container.containerID else { continue }
                if case .running = runtime.state(id: id) { continue }
                queue.add("pod:" + snapshot.uid)
                break
            }
        }
    }

    // MARK: - Restart adoption

    /// Loads the pods a previous run recorded, re-claims their addresses, and kills and removes
    /// every container the runtime has that none of them owns: nothing is left orphaned. Pods
    /// that are no longer bound here are cleaned up by their first sync.
    private func adoptPreviousRun() {
        let persisted = store.loadAll()
        var owned: Set<String> = []
        for var pod in persisted {
            if let address = pod.podIP, !addresses.restore(address, for: pod.uid) {
                log("pod \(pod.namespace)/\(pod.name): address \(address) is outside \(network.cidr) or taken; it gets a new one")
                pod.podIP = nil
            }
            for container in pod.containers.values {
                if let id = container.containerID { owned.insert(id) }
            }
            records.insert(PodRecord(persisted: pod))
        }
        for uid in store.strayDirectories(known: Set(persisted.map(\.uid))) { try? store.remove(uid) }
        // What pods gone while the agent was down held is free again; the rest is adopted.
        try? deviceAllocations.retain(pods: Set(persisted.map(\.uid)))
        let ids: [String]
        do {
            ids = try runtime.containerIDs()
        } catch {
            log("cannot list the runtime's containers to adopt them: \(error)")
            return
        }
        for id in ids where !owned.contains(id) {
            try? runtime.signal(id: id, SIGKILL)
            try? runtime.remove(id: id)
        }
    }

    // MARK: - Logs

    /// Where a pod on this node listens (port-forward dials it there).
    private func podAddress(namespace: String, pod: String) throws -> (address: String, uid: String) {
        guard let snapshot = records.snapshot(namespace: namespace, name: pod) else {
            throw ContainerLogError.notFound("pod \(namespace)/\(pod) is not on node \(options.name)")
        }
        guard let address = addresses.address(of: snapshot.uid) else {
            throw ContainerLogError.badRequest("pod \(namespace)/\(pod) has no address yet")
        }
        return (address, snapshot.uid)
    }

    /// The running container an exec goes to (kubelet answers the same words for a pod or
    /// container it does not have, or one that is not running).
    private func execTarget(namespace: String, pod: String, container: String) throws -> (id: String, runtime: ContainerExecuting) {
        guard let snapshot = records.snapshot(namespace: namespace, name: pod) else {
            throw ContainerLogError.notFound("pod \(namespace)/\(pod) is not on node \(options.name)")
        }
        guard let instance = snapshot.containers[container] else {
            throw ContainerLogError.notFound("container \"\(container)\" is not in pod \(namespace)/\(pod)")
        }
        guard let id = instance.containerID, case .running = runtime.state(id: id) else {
            throw ContainerLogError.badRequest("container \"\(container)\" in pod \"\(pod)\" is not running")
        }
        guard let executing = runtime as? ContainerExecuting else {
            throw ContainerLogError(status: 501, message: "the \(runtimeDescription.name) runtime of node \(options.name) cannot exec in containers")
        }
        return (id, executing)
    }

    private func logSource(namespace: String, pod: String, container: String, previous: Bool) throws -> ContainerLogSource {
        guard let snapshot = records.snapshot(namespace: namespace, name: pod) else {
            throw ContainerLogError.notFound("pod \(namespace)/\(pod) is not on node \(options.name)")
        }
        guard let instance = snapshot.containers[container] else {
            let names = snapshot.containers.keys.sorted().joined(separator: ", ")
            throw ContainerLogError.notFound("container \"\(container)\" is not in pod \(namespace)/\(pod) (its containers: \(names))")
        }
        let restartCount = previous ? instance.restartCount - 1 : instance.restartCount
        guard restartCount >= 0 else {
            throw ContainerLogError.badRequest("previous terminated container \"\(container)\" in pod \"\(pod)\" not found")
        }
        guard instance.containerID != nil else {
            throw ContainerLogError.badRequest("container \"\(container)\" in pod \"\(pod)\" is waiting to start")
        }
        let path = store.logPath(snapshot.uid, container: container, restartCount: restartCount)
        let exists = FileManager.default.fileExists(atPath: path)
        if previous && !exists {
            throw ContainerLogError.badRequest("previous terminated container \"\(container)\" in pod \"\(pod)\" not found")
        }
        let runtime = self.runtime, records = self.records, uid = snapshot.uid, queue = self.queue
        return ContainerLogSource(path: exists || instance.running ? path : nil, isRunning: {
            guard !previous, let current = records.snapshot(uid: uid)?.containers[container],
                  current.restartCount == restartCount, let id = current.containerID else { return false }
            if case .running = runtime.state(id: id) { return true }
            return false
        }, settle: {
            // Sync the pod now rather than at the next relist, and wait (up to 3 s) until its
            // status, written before the snapshot is published, no longer says running.
            queue.add("pod:" + uid)
            for _ in 0..<60 {
                guard let current = records.snapshot(uid: uid)?.containers[container], current.restartCount == restartCount,
                      current.running else { return }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
        })
    }
}

/// The Node could not be registered; `fair node` prints it and exits.
public struct NodeRegistrationError: Error, CustomStringConvertible {
    public let description: String
}

/// The agent's keys, handed to its reconcile loop; weak, so the loop does not keep a stopped
/// agent alive.
private final class AgentKeys: Reconciler {
    weak var agent: NodeAgent?
    var name: String { "sync" }

    func reconcile(_ key: String) throws -> ReconcileResult {
        try agent?.handle(key) ?? .done
    }
}
