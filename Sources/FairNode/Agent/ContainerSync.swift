import FairKube
import FairRegistry
import Foundation

/// One container of a live pod, within one pod sync: look at the runtime, then start, restart
/// (per restartPolicy, after the crash-loop back-off), probe, or stop it, and say how it stands.
struct ContainerSync {
    let syncer: PodSyncer
    let record: PodRecord
    let pod: JSONValue
    let container: JSONValue
    let restartPolicy: String
    /// The pod's phase is already Succeeded/Failed: nothing starts again, whatever runs is stopped.
    let podFinished: Bool
    let volumes: Result<[String: String], Error>
    let now: Date

    private var state = PersistedContainer()
    private var progress = ContainerProgress()

    init(syncer: PodSyncer, record: PodRecord, pod: JSONValue, container: JSONValue, restartPolicy: String,
         podFinished: Bool, volumes: Result<[String: String], Error>, now: Date) {
        self.syncer = syncer
        self.record = record
        self.pod = pod
        self.container = container
        self.restartPolicy = restartPolicy
        self.podFinished = podFinished
        self.volumes = volumes
        self.now = now
    }

    var name: String { Container(json: container).name ?? "" }
    var image: String { Container(json: container).image ?? "" }
    private var options: NodeOptions { syncer.options }

    mutating func run(_ wake: inout Wake) throws -> ContainerReport {
        state = record.persisted.containers[name] ?? PersistedContainer()
        progress = record.progress[name] ?? ContainerProgress()
        let report = try decide(&wake)
        record.persisted.containers[name] = state
        record.progress[name] = progress
        return report
    }

    private mutating func decide(_ wake: inout Wake) throws -> ContainerReport {
        if case let .running(startedAt) = observe(), let id = state.containerID {
            return running(id: id, startedAt: startedAt, &wake)
        }
        let isRestart = state.startConfirmed && state.termination != nil
        let needsStart: Bool
        if state.containerID == nil || !state.startConfirmed {
            // Never started, or a start that did not happen (the agent stopped in between).
            needsStart = !podFinished
        } else if let termination = state.termination {
            needsStart = !podFinished && shouldRestart(exitCode: termination.exitCode)
        } else {
            needsStart = false
        }
        if !needsStart, let termination = state.termination {
            return report(.terminated(termination), lastTermination: state.lastTermination)
        }
        let shownTermination = isRestart ? state.termination : state.lastTermination
        guard needsStart else {
            return report(.waiting(progress.waiting ?? WaitingReason(reason: "ContainerCreating")), lastTermination: shownTermination)
        }
        if let notBefore = state.notBefore, now < notBefore {
            wake.at(notBefore)
            let waiting = isRestart
                ? WaitingReason(reason: "CrashLoopBackOff",
                                message: "back-off \(Int(state.currentDelay.rounded()))s restarting failed container=\(name) pod=\(record.name)_\(record.namespace)(\(record.uid))")
                : (progress.waiting ?? WaitingReason(reason: "RunContainerError"))
            progress.waiting = waiting
            return report(.waiting(waiting), lastTermination: shownTermination)
        }
        if case let .failure(error) = volumes {
            return configError(error, lastTermination: shownTermination, &wake)
        }
        if let notBefore = progress.pullNotBefore, now < notBefore, let waiting = progress.waiting {
            wake.at(notBefore)
            return report(.waiting(waiting), lastTermination: shownTermination)
        }
        let pullKey = "\(record.uid)/\(name)/\(state.restartCount)/\(progress.pullAttempt)"
        let policy = Container(json: container).imagePullPolicy ?? "IfNotPresent"
        let namespace = pod.namespace ?? "default", secretNames = Pod(json: pod).spec.imagePullSecretNames
        let sources = syncer.configSources
        // Read on the pull's own thread, and afresh for each attempt: a Secret created after
        // the pod is used by the next try, as kubelet does.
        let credentials = { PullSecrets.credentials(namespace: namespace, names: secretNames, sources: sources) }
        switch syncer.pulls.outcome(for: pullKey, image: image, pullPolicy: policy, credentials: credentials, notify: record.uid, wait: 1) {
        case .pending:
            progress.waiting = WaitingReason(reason: "ContainerCreating")
            return report(.waiting(WaitingReason(reason: "ContainerCreating")), lastTermination: shownTermination)
        case let .failed(error):
            progress.pullAttempt += 1
            // kubelet's image pull back-off: 10 s doubling to 5 min.
            progress.pullBackOff = progress.pullBackOff == 0 ? options.imagePullBackOffInitial : min(progress.pullBackOff * 2, 300)
            progress.pullNotBefore = now.addingTimeInterval(progress.pullBackOff)
            let text = "\(error)"
            let waiting = WaitingReason(reason: text.hasPrefix("ErrImageNeverPull") ? "ErrImageNeverPull" : "ErrImagePull", message: text)
            progress.waiting = waiting
            wake.at(now.addingTimeInterval(progress.pullBackOff))
            return report(.waiting(waiting), lastTermination: shownTermination)
        case let .ready(prepared):
            progress.pullBackOff = 0
            progress.pullNotBefore = nil
            if let source = prepared.pulledFrom, let involved = EventRecorder.InvolvedObject(pod) {
                let named = (try? RegistryReference(parsing: image))?.host
                let from = named == source ? "" : " from mirror \(source) of \(named ?? "its registry")"
                syncer.events.record(involved, .normal, reason: "Pulled",
                                     message: "Successfully pulled image \"\(image)\"\(from)")
            }
            return try start(prepared, isRestart: isRestart, shownTermination: shownTermination, &wake)
        }
    }

    /// Reads the current instance from the runtime and records how it ended, once.
    private mutating func observe() -> ContainerState {
        guard let id = state.containerID else { return .unknown }
        let observed = syncer.runtime.state(id: id)
        switch observed {
        case .running:
            state.startConfirmed = true
        case let .exited(code, reason, startedAt, finishedAt):
            state.startConfirmed = true
            if state.termination == nil {
                recordTermination(ContainerTermination(exitCode: code, reason: reason, startedAt: startedAt, finishedAt: finishedAt,
                                                       containerID: syncer.containerID(id)))
            }
        case .unknown:
            if state.startConfirmed && state.termination == nil {
                recordTermination(ContainerTermination(exitCode: 137, reason: "ContainerStatusUnknown",
                                                       message: "The container could not be located when the pod was synced",
                                                       startedAt: nil, finishedAt: now, containerID: syncer.containerID(id)))
            }
        }
        return observed
    }

    /// Kubelet's crash-loop back-off: the first restart is immediate, then 10 s, 20 s, … up to
    /// 5 min; a container that ran for 10 min starts over.
    private mutating func recordTermination(_ termination: ContainerTermination) {
        state.termination = termination
        if let startedAt = termination.startedAt, termination.finishedAt.timeIntervalSince(startedAt) >= options.crashBackOffReset {
            state.backOff = 0
        }
        state.notBefore = termination.finishedAt.addingTimeInterval(state.backOff)
        state.backOff = state.backOff == 0 ? options.crashBackOffInitial : min(state.backOff * 2, options.crashBackOffMax)
        progress.killAt = nil
        progress.killSent = false
    }

    private func shouldRestart(exitCode: Int32) -> Bool {
        switch restartPolicy {
        case "Never": return false
        case "OnFailure": return exitCode != 0
        default: return true
        }
    }

    // MARK: - Running

    private mutating func running(id: String, startedAt: Date, _ wake: inout Wake) -> ContainerReport {
        if progress.instance != id { resetProbes(instance: id, startedAt: startedAt) }
        progress.waiting = nil
        if podFinished && progress.killAt == nil {
            beginStop(id: id, grace: podGracePeriod)
        }
        if let killAt = progress.killAt {
            if Date() >= killAt && !progress.killSent {
                try? syncer.runtime.signal(id: id, SIGKILL)
                progress.killSent = true
            }
            // The relist would notice the exit too; looking sooner keeps restarts prompt.
            wake.at(progress.killSent ? now.addingTimeInterval(0.25) : min(killAt, now.addingTimeInterval(0.25)))
            return report(.running(startedAt: startedAt), lastTermination: state.lastTermination, ready: false)
        }
        let podIP = record.persisted.podIP ?? "127.0.0.1"
        if var liveness = progress.liveness {
            if liveness.nextDue <= Date() {
                liveness.record(Prober.run(liveness.spec.action, podIP: podIP, timeout: liveness.spec.timeout), at: Date())
                progress.liveness = liveness
                if !liveness.passing {
                    let grace = Container(json: container).livenessProbe?.terminationGracePeriodSeconds.map(TimeInterval.init) ?? podGracePeriod
                    beginStop(id: id, grace: grace)
                    wake.at(now.addingTimeInterval(0.25))
                    return report(.running(startedAt: startedAt), lastTermination: state.lastTermination, ready: false)
                }
            }
            wake.at(liveness.nextDue)
        }
        if var readiness = progress.readiness {
            if readiness.nextDue <= Date() {
                readiness.record(Prober.run(readiness.spec.action, podIP: podIP, timeout: readiness.spec.timeout), at: Date())
                progress.readiness = readiness
            }
            wake.at(readiness.nextDue)
        }
        return report(.running(startedAt: startedAt), lastTermination: state.lastTermination, ready: progress.readiness?.passing ?? true)
    }

    private var podGracePeriod: TimeInterval {
        TimeInterval(max(0, Pod(json: pod).spec.terminationGracePeriodSeconds ?? 30))
    }

    /// SIGTERM now, SIGKILL once `grace` has passed (checked by later syncs).
    private mutating func beginStop(id: String, grace: TimeInterval) {
        try? syncer.runtime.signal(id: id, grace <= 0 ? SIGKILL : SIGTERM)
        progress.killAt = now.addingTimeInterval(grace)
        progress.killSent = grace <= 0
    }

    private mutating func resetProbes(instance: String, startedAt: Date) {
        progress.instance = instance
        let typed = Container(json: container)
        progress.readiness = ProbeSpec(typed.readinessProbe, container: typed)
            .map { ProbeState(spec: $0, containerStarted: startedAt, initiallyPassing: false) }
        progress.liveness = ProbeSpec(typed.livenessProbe, container: typed)
            .map { ProbeState(spec: $0, containerStarted: startedAt, initiallyPassing: true) }
        progress.killAt = nil
        progress.killSent = false
    }

    // MARK: - Starting

    private mutating func start(_ prepared: PreparedImage, isRestart: Bool, shownTermination: ContainerTermination?,
                                _ wake: inout Wake) throws -> ContainerReport {
        let restartCount = isRestart ? state.restartCount + 1 : state.restartCount
        let id = "\(record.uid)-\(name)-\(restartCount)"
        let spec: ContainerSpec
        do {
            spec = try ContainerSpecFactory(syncer: syncer, record: record, pod: pod, container: container)
                .make(id: id, restartCount: restartCount, image: prepared, volumePaths: (try? volumes.get()) ?? [:])
        } catch let error as ContainerConfigError {
            return configError(error, lastTermination: shownTermination, &wake)
        }
        if isRestart {
            // The ended instance is now lastState; its logs stay for `previous`.
            if let old = state.containerID { try? syncer.runtime.remove(id: old) }
            state.lastTermination = state.termination
            state.termination = nil
            state.restartCount = restartCount
        } else if let stale = state.containerID {
            // Whatever half of an interrupted start exists goes before it is tried again.
            try? syncer.runtime.remove(id: stale)
        }
        state.containerID = id
        state.startConfirmed = false
        state.imageID = Self.imageID(prepared)
        // Saved before the start, so a restart of the agent knows this id is ours.
        record.persisted.containers[name] = state
        try syncer.store.save(record.persisted)
        try FileManager.default.createDirectory(atPath: (spec.logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            try syncer.runtime.start(spec)
        } catch {
            let delay = max(state.backOff, options.crashBackOffInitial)
            state.notBefore = now.addingTimeInterval(delay)
            state.backOff = min(delay * 2, options.crashBackOffMax)
            let waiting = WaitingReason(reason: "RunContainerError", message: "\(error)")
            progress.waiting = waiting
            wake.at(now.addingTimeInterval(delay))
            return report(.waiting(waiting), lastTermination: state.lastTermination)
        }
        state.startConfirmed = true
        var startedAt = Date()
        if case let .running(at) = syncer.runtime.state(id: id) { startedAt = at }
        resetProbes(instance: id, startedAt: startedAt)
        progress.waiting = nil
        if let due = progress.readiness?.nextDue { wake.at(due) }
        if let due = progress.liveness?.nextDue { wake.at(due) }
        return report(.running(startedAt: startedAt), lastTermination: state.lastTermination, ready: progress.readiness == nil)
    }

    private mutating func configError(_ error: Error, lastTermination: ContainerTermination?, _ wake: inout Wake) -> ContainerReport {
        let waiting = WaitingReason(reason: "CreateContainerConfigError", message: "\(error)")
        progress.waiting = waiting
        wake.at(now.addingTimeInterval(options.configRetryInterval))
        return report(.waiting(waiting), lastTermination: lastTermination)
    }

    /// "registry/repo@sha256:…", as kubelet reports imageID.
    static func imageID(_ image: PreparedImage) -> String {
        var repository = image.reference
        if let at = repository.firstIndex(of: "@") { repository = String(repository[..<at]) }
        if let colon = repository.lastIndex(of: ":"), !repository[colon...].contains("/") { repository = String(repository[..<colon]) }
        return "\(repository)@\(image.digest)"
    }

    private func report(_ current: ContainerReport.State, lastTermination: ContainerTermination?, ready: Bool = false) -> ContainerReport {
        var containerID: String?
        switch current {
        case .running: containerID = state.containerID.map(syncer.containerID)
        case let .terminated(termination): containerID = termination.containerID
        case .waiting: containerID = lastTermination?.containerID
        }
        return ContainerReport(name: name, image: image, imageID: state.imageID ?? "", containerID: containerID,
                               restartCount: state.restartCount, state: current, lastTermination: lastTermination, ready: ready)
    }
}

extension PersistedContainer {
    /// The delay of the back-off in force (what the CrashLoopBackOff message names).
    var currentDelay: TimeInterval {
        guard let notBefore, let finishedAt = termination?.finishedAt else { return 0 }
        return notBefore.timeIntervalSince(finishedAt)
    }
}

extension WaitingReason {
    init(reason: String) { self.init(reason: reason, message: nil) }
}
