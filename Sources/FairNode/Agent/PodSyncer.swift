import FairKube
import Foundation

/// Brings one pod on this node to what its spec declares, level-triggered: every sync reads the
/// pod from the informer and its containers from the runtime, acts (start, restart, probe, stop),
/// reports the status if it changed, and says when to look again. A restart of the agent, or a
/// missed event, changes nothing: the next sync sees the same world and does the same thing.
final class PodSyncer: @unchecked Sendable {
    let nodeName: String
    let client: KubeClient
    let runtime: ContainerRuntime
    let runtimeName: String
    let options: NodeOptions
    let store: PodStateStore
    let addresses: PodIPAllocator
    let records: PodRecords
    let pulls: ImagePulls
    let allocatable: [String: Quantity]
    private let informer: Informer
    /// Every Service, for the pods' service environment variables (kubelet's service lister).
    let services: Informer
    /// The node's events about its pods (kubelet's: which registry an image came from).
    let events: EventRecorder
    /// The CDI devices the node has, and which pod holds which.
    let devices: CDIRegistry
    let deviceAllocations: DeviceAllocations

    init(nodeName: String, client: KubeClient, runtime: ContainerRuntime, runtimeName: String, options: NodeOptions,
         store: PodStateStore, addresses: PodIPAllocator, records: PodRecords, pulls: ImagePulls,
         allocatable: [String: Quantity], informer: Informer, services: Informer,
         devices: CDIRegistry = CDIRegistry(directories: []), deviceAllocations: DeviceAllocations = DeviceAllocations(path: nil)) {
        self.nodeName = nodeName
        self.client = client
        self.runtime = runtime
        self.runtimeName = runtimeName
        self.options = options
        self.store = store
        self.addresses = addresses
        self.records = records
        self.pulls = pulls
        self.allocatable = allocatable
        self.informer = informer
        self.services = services
        self.devices = devices
        self.deviceAllocations = deviceAllocations
        events = EventRecorder(client: client, component: "kubelet")
    }

    /// The pod's current object, or nil when it is gone from the API (or the name now holds another pod).
    private func currentPod(_ uid: String) -> JSONValue? {
        guard let key = records.key(of: uid), let pod = informer.get(key), pod.uid == uid else { return nil }
        return pod
    }

    func sync(uid: String) throws -> ReconcileResult {
        // Until the first list arrives, "not in the informer" does not mean deleted; and a
        // container started before the Services are known would miss their variables.
        guard informer.hasSynced, services.hasSynced else { return .requeue(after: 0.2) }
        let current = currentPod(uid)
        let record: PodRecord
        if let existing = records.record(uid) {
            record = existing
        } else {
            guard let current, let namespace = current.namespace, let name = current.name else {
                records.forget(uid)
                return .done
            }
            record = PodRecord(persisted: PersistedPod(uid: uid, namespace: namespace, name: name))
            records.insert(record)
        }
        if let current {
            record.pod = current
            record.persisted.terminationGracePeriodSeconds = Pod(json: current).spec.terminationGracePeriodSeconds
        }
        guard let current, !current.metadata.isTerminating else {
            return try terminate(record, stillInAPI: current)
        }
        return try run(record, pod: current)
    }

    // MARK: - A live pod

    private func run(_ record: PodRecord, pod: JSONValue) throws -> ReconcileResult {
        let now = Date()
        let before = record.persisted
        if record.persisted.podIP == nil {
            // Saved with the first container start (before anything uses the address) or at the
            // end of this sync, whichever comes first.
            record.persisted.podIP = try addresses.allocate(for: record.uid)
        }
        let typed = Pod(json: pod)
        let finished = PodPhase.isTerminal(typed.status.phase)
        let restartPolicy = typed.spec.restartPolicy ?? "Always"
        var volumes: Result<[String: String], Error>
        var wake = Wake()
        do {
            var podVolumes = PodVolumes(pod: pod, volumesDirectory: store.volumesDirectory(record.uid))
            podVolumes.sources = configSources
            // A live pod's tokens are renewed when due; a finished pod needs none.
            podVolumes.renewsTokens = !finished
            volumes = .success(try podVolumes.prepare(now: now))
            if let due = podVolumes.nextTokenRefresh { wake.at(due) }
        } catch {
            volumes = .failure(error)
        }

        // Init containers run one at a time, each to success, before any app container starts;
        // a failed one is retried (OnFailure) unless the pod's policy is Never.
        let initPolicy = restartPolicy == "Never" ? "Never" : "OnFailure"
        var initReports: [ContainerReport] = []
        var initialized = true
        for container in typed.spec.initContainers.map(\.json) {
            guard initialized else {
                initReports.append(waitingReport(record, container, reason: "PodInitializing"))
                continue
            }
            var context = ContainerSync(syncer: self, record: record, pod: pod, container: container, restartPolicy: initPolicy,
                                        podFinished: finished, volumes: volumes, now: now)
            var report = try context.run(&wake)
            if case let .terminated(termination) = report.state, termination.exitCode == 0 {
                report.ready = true
            } else {
                initialized = false
            }
            initReports.append(report)
        }
        var reports: [ContainerReport] = []
        for container in typed.spec.containers.map(\.json) {
            guard initialized else {
                reports.append(waitingReport(record, container, reason: "PodInitializing"))
                continue
            }
            var context = ContainerSync(syncer: self, record: record, pod: pod, container: container, restartPolicy: restartPolicy,
                                        podFinished: finished, volumes: volumes, now: now)
            reports.append(try context.run(&wake))
        }
        if record.persisted != before { try store.save(record.persisted) }
        // Published once the status is written: what the log server reads from it (a container
        // has ended) is then already what the API says.
        defer { publish(record, initReports + reports) }

        // A phase someone else made terminal (or we did earlier) stays: Kubernetes never moves back.
        if !finished {
            let phase = initialized
                ? PodPhase.compute(reports, restartPolicy: restartPolicy)
                : PodPhase.initializing(initReports, restartPolicy: initPolicy)
            try writeStatus(record, pod: pod, reports: reports, initReports: initReports, phase: phase, now: now)
        }
        return wake.outcome(now: now)
    }

    /// A container that may not start yet (its pod is still initializing).
    private func waitingReport(_ record: PodRecord, _ container: JSONValue, reason: String) -> ContainerReport {
        let container = Container(json: container)
        let name = container.name ?? ""
        let state = record.persisted.containers[name]
        return ContainerReport(name: name, image: container.image ?? "", imageID: state?.imageID ?? "", containerID: nil,
                               restartCount: state?.restartCount ?? 0, state: .waiting(WaitingReason(reason: reason)),
                               lastTermination: state?.lastTermination, ready: false)
    }

    func publish(_ record: PodRecord, _ reports: [ContainerReport]) {
        var containers: [String: PodSnapshot.Container] = [:]
        for report in reports {
            let persisted = record.persisted.containers[report.name]
            containers[report.name] = .init(restartCount: report.restartCount, containerID: persisted?.containerID, running: report.isRunning)
        }
        records.publish(PodSnapshot(uid: record.uid, namespace: record.namespace, name: record.name, containers: containers))
    }

    private func writeStatus(_ record: PodRecord, pod: JSONValue, reports: [ContainerReport], initReports: [ContainerReport],
                             phase: String, now: Date) throws {
        let current = pod["status"] ?? [:]
        let startTime = record.startTime ?? PodStatus(json: current).startTime.map(KubeTime.format) ?? KubeTime.format(now)
        record.startTime = startTime
        let previous = record.lastWrittenStatus ?? current
        let desired = PodStatusBuilder(pod: pod, reports: reports, initReports: initReports, phase: phase, podIP: record.persisted.podIP,
                                       startTime: startTime, previousConditions: PodStatus(json: previous).conditions, now: now).build()
        // Compare only the fields this node owns; others (nominatedNodeName, …) are not ours.
        var baseline: [String: JSONValue] = [:]
        for (key, _) in desired.objectValue ?? [:] { baseline[key] = previous[key] }
        guard desired != .object(baseline) else { return }
        do {
            _ = try client.mergePatch(.pods, namespace: record.namespace, name: record.name, ["status": desired], subresource: "status")
            record.lastWrittenStatus = desired
        } catch let error as KubeError where error.isNotFound {
            // Deleted meanwhile: the informer will say so, and the next sync cleans up.
        }
    }

    func containerID(_ id: String) -> String { "\(runtimeName)://\(id)" }

    /// ConfigMaps and Secrets, for env and volumes alike.
    var configSources: ConfigSources { .api(client) }

    /// The API server's host and port as this node reaches it; nil when its URL has none.
    var apiServerAddress: (host: String, port: Int)? {
        guard let url = URLComponents(string: client.config.server), let host = url.host, !host.isEmpty else { return nil }
        return (host, url.port ?? (url.scheme == "http" ? 80 : 443))
    }
}

/// The earliest time a sync wants to look again.
struct Wake {
    private(set) var at: Date?

    mutating func at(_ date: Date) {
        if let current = at, current <= date { return }
        at = date
    }

    func outcome(now: Date) -> ReconcileResult {
        guard let at else { return .done }
        return .requeue(after: max(0.01, at.timeIntervalSince(now)))
    }
}
