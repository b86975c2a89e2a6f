import FairKube
import FairArchive
import Foundation

/// Follows a batch/v1 Job the way a person watching it would: shows each pod's output as it is
/// written, one attempt after another, and returns how the Job ended. It is level-triggered:
/// each turn reads the Job and its pods afresh (a turn starts when a watch says something
/// changed, `JobChanges`, not on a timer), so a dropped connection, a retried pod or a
/// restart of the API server only delays it, and no output is shown twice (a resumed stream
/// skips what was already shown).
public final class JobFollower: @unchecked Sendable {
    public struct Options: Sendable {
        public var namespace: String
        public var name: String
        /// Containers whose output is shown, in the order they run (init containers first).
        public var containers: [String] = ["train"]
        /// Problems that cannot resolve themselves (unschedulable, image pull) end the follow.
        public var failsOnPodProblems = true
        /// Follow changes through watches (`JobChanges`); off, look every `pollInterval`.
        public var watches = true
        public var pollInterval: TimeInterval = 0.25
        /// With watches: the longest wait for a change before looking anyway.
        public var safetyInterval: TimeInterval = 5
        /// A multi-worker Job (Indexed, one pod per rank): every rank's output at once, each
        /// line prefixed by the rank (`RankedLogStreams`), instead of one pod after another.
        public var ranks = false

        public init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
    }

    public enum Event: Sendable {
        /// A pod began to run (attempt is 1-based; of is backoffLimit + 1).
        case attempt(pod: String, node: String?, number: Int, of: Int)
        /// A container of the pod ended.
        case containerEnded(pod: String, container: String, exitCode: Int, reason: String?)
        case waiting(pod: String, why: String)
        /// The pod was bound to a node.
        case scheduled(pod: String, node: String)
        /// A rank's pod began to run (attempt is 1-based; of is its retries + 1).
        case rankStarted(rank: Int, pod: String, node: String?, attempt: Int, of: Int)
    }

    private let client: KubeClient
    private let options: Options
    private let onLog: (_ pod: String, _ container: String, _ bytes: UnsafeRawBufferPointer) -> Void
    private let onEvent: (Event) -> Void
    /// Bytes shown per pod/container, so a resumed stream skips them.
    private var shown: [String: Int64] = [:]
    private var finishedPods: Set<String> = []
    private var announcedPods: Set<String> = []
    private var lastWaiting: [String: String] = [:]
    private var scheduledPods: Set<String> = []
    private var failedStreams: [String: Int] = [:]
    private var rankStreams: RankedLogStreams?
    private var endedContainers: Set<String> = []

    public init(client: KubeClient, options: Options,
                onLog: @escaping (_ pod: String, _ container: String, _ bytes: UnsafeRawBufferPointer) -> Void,
                onEvent: @escaping (Event) -> Void = { _ in }) {
        self.client = client
        self.options = options
        self.onLog = onLog
        self.onEvent = onEvent
    }

    public struct JobGone: Error, CustomStringConvertible {
        public var description: String
    }

    /// Follows until the Job completes or fails (or a pod shows a problem that will not go away).
    public func run() throws -> JobOutcome {
        let changes = options.watches ? JobChanges(client: client, namespace: options.namespace, job: options.name) : nil
        changes?.start()
        defer { changes?.stop() }
        if options.ranks {
            rankStreams = RankedLogStreams(client: client, namespace: options.namespace, onLog: onLog, onChange: { changes?.changed() })
        }
        var unreachableSince: Date?
        while true {
            // Changes during the turn wake the next wait at once: counted from before it.
            let seen = changes?.current ?? 0
            do {
                if let outcome = try turn() { return outcome }
                unreachableSince = nil
            } catch let error as KubeError where error.code == 0 || error.code >= 500 {
                // The API server restarting or a network blip: keep trying for a while, as kubectl does.
                let since = unreachableSince ?? Date()
                unreachableSince = since
                if Date().timeIntervalSince(since) > 120 { throw error }
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            if let changes {
                changes.wait(after: seen, timeout: options.safetyInterval)
            } else {
                Thread.sleep(forTimeInterval: options.pollInterval)
            }
        }
    }

    /// One look at the world: streams whatever can be streamed now, returns the outcome once known.
    private func turn() throws -> JobOutcome? {
        let job: JSONValue
        do {
            job = try client.get(.jobs, namespace: options.namespace, name: options.name)
        } catch let error as KubeError where error.code == 404 {
            throw JobGone(description: "job \(options.name) was deleted while it was followed")
        }
        let pods = try client.pods(ofJob: options.name, namespace: options.namespace).filter { pod in
            // Only this Job's pods, not those of an earlier Job of the same name.
            guard let uid = job.uid else { return true }
            return pod.labels["controller-uid"].map { $0 == uid } ?? true
        }
        if let rankStreams { return try rankedTurn(job: job, pods: pods, streams: rankStreams) }
        let tries = Int(job.value(at: "spec.backoffLimit")?.intValue ?? 6) + 1

        for (index, pod) in pods.enumerated() {
            guard let podName = pod.name, !finishedPods.contains(podName) else { continue }
            if options.failsOnPodProblems, let problem = PodProblem.detect(in: pod) {
                return JobOutcome(state: .failed, reason: problem.reason, message: problem.message, attempts: index + 1, pod: podName,
                                  cannotStart: true)
            }
            if try follow(pod, number: index + 1, of: tries) {
                finishedPods.insert(podName)
            } else {
                break  // the next pods wait for this one's output to be shown
            }
        }

        for condition in job.value(at: "status.conditions")?.arrayValue ?? [] where condition["status"]?.stringValue == "True" {
            let attempts = max(pods.count, Int((job.value(at: "status.succeeded")?.intValue ?? 0) + (job.value(at: "status.failed")?.intValue ?? 0)))
            let unshown = pods.contains { !finishedPods.contains($0.name ?? "") && Self.hasStarted($0) }
            switch condition["type"]?.stringValue {
            case "Complete" where !unshown:
                let winner = pods.last { $0.value(at: "status.phase")?.stringValue == "Succeeded" }
                return JobOutcome(state: .complete, attempts: attempts, pod: winner?.name ?? pods.last?.name)
            case "Failed" where !unshown:
                return JobOutcome(state: .failed, reason: condition["reason"]?.stringValue, message: condition["message"]?.stringValue,
                                  attempts: attempts, pod: pods.last?.name)
            default:
                continue
            }
        }
        return nil
    }

    /// One look at a multi-worker Job: starts the log streams that can start, reports each
    /// rank's start and each container's end, and returns the outcome once the Job ended and
    /// every started container has been shown to its end.
    private func rankedTurn(job: JSONValue, pods: [JSONValue], streams: RankedLogStreams) throws -> JobOutcome? {
        let tries = Int(job.value(at: "spec.backoffLimitPerIndex")?.intValue ?? 0) + 1
        var unshown = false
        for pod in pods {
            guard let podName = pod.name else { continue }
            let rank = Self.rank(of: pod) ?? 0
            let phase = pod.value(at: "status.phase")?.stringValue ?? "Pending"
            if options.failsOnPodProblems, phase == "Pending", let problem = PodProblem.detect(in: pod) {
                return JobOutcome(state: .failed, reason: problem.reason, message: "rank \(rank): \(problem.message)",
                                  attempts: pods.count, pod: podName, cannotStart: true)
            }
            if let node = pod.value(at: "spec.nodeName")?.stringValue, scheduledPods.insert(podName).inserted {
                onEvent(.scheduled(pod: podName, node: node))
            }
            guard Self.hasStarted(pod) else {
                if phase == "Pending" {
                    let why = Self.waitingReason(pod) ?? phase
                    if lastWaiting[podName] != why {
                        lastWaiting[podName] = why
                        onEvent(.waiting(pod: podName, why: "rank \(rank): \(why)"))
                    }
                }
                continue
            }
            if announcedPods.insert(podName).inserted {
                onEvent(.rankStarted(rank: rank, pod: podName, node: pod.value(at: "spec.nodeName")?.stringValue,
                                     attempt: JobIndexAnnotations.earlierFailures(of: pod) + 1, of: tries))
            }
            for container in options.containers {
                guard let state = Self.state(of: container, in: pod), state["waiting"] == nil else { break }
                let terminated = state["terminated"]
                switch streams.state(pod: podName, container: container) {
                case .complete:
                    let key = "\(podName)/\(container)"
                    if let terminated, endedContainers.insert(key).inserted {
                        onEvent(.containerEnded(pod: podName, container: container, exitCode: Int(terminated["exitCode"]?.intValue ?? 0),
                                                reason: terminated["reason"]?.stringValue))
                    }
                case .running:
                    unshown = true
                case .notStarted:
                    unshown = true
                    streams.start(pod: podName, container: container, rank: rank, ended: terminated != nil)
                }
                if terminated == nil { break }
            }
        }
        for condition in job.value(at: "status.conditions")?.arrayValue ?? [] where condition["status"]?.stringValue == "True" {
            guard !unshown && !streams.anyRunning else { continue }
            switch condition["type"]?.stringValue {
            case "Complete":
                let rankZero = pods.last { Self.rank(of: $0) == 0 && $0.value(at: "status.phase")?.stringValue == "Succeeded" }
                return JobOutcome(state: .complete, attempts: pods.count, pod: rankZero?.name ?? pods.last?.name)
            case "Failed":
                let failed = pods.last { $0.value(at: "status.phase")?.stringValue == "Failed" }
                return JobOutcome(state: .failed, reason: condition["reason"]?.stringValue, message: condition["message"]?.stringValue,
                                  attempts: pods.count, pod: failed?.name ?? pods.last?.name)
            default:
                continue
            }
        }
        return nil
    }

    /// Shows what `pod` has to show now; true once it has nothing more to show.
    private func follow(_ pod: JSONValue, number: Int, of tries: Int) throws -> Bool {
        let podName = pod.name!
        let phase = pod.value(at: "status.phase")?.stringValue ?? "Pending"
        if let node = pod.value(at: "spec.nodeName")?.stringValue, scheduledPods.insert(podName).inserted {
            onEvent(.scheduled(pod: podName, node: node))
        }
        guard Self.hasStarted(pod) else {
            let why = Self.waitingReason(pod) ?? phase
            if lastWaiting[podName] != why {
                lastWaiting[podName] = why
                onEvent(.waiting(pod: podName, why: why))
            }
            return false
        }
        if announcedPods.insert(podName).inserted {
            onEvent(.attempt(pod: podName, node: pod.value(at: "spec.nodeName")?.stringValue, number: number, of: tries))
        }
        for container in options.containers {
            let state = Self.state(of: container, in: pod)
            if state?["waiting"] != nil || state == nil {
                // Not started: later containers wait for it, unless the pod is over.
                return phase == "Succeeded" || phase == "Failed"
            }
            let key = "\(podName)/\(container)"
            if shown[key] == -1 { continue }  // shown to the end
            let streamed = try stream(pod: podName, container: container, key: key, follow: state?["terminated"] == nil)
            guard let terminated = state?["terminated"] else {
                return false  // the stream ended before the container: look again
            }
            if !streamed {
                // The node could not serve the log yet (its agent restarting): try again for a while
                // rather than lose the end of the output.
                failedStreams[key, default: 0] += 1
                if failedStreams[key]! < 120 { return false }
            }
            shown[key] = -1
            let exitCode = Int(terminated["exitCode"]?.intValue ?? 0)
            onEvent(.containerEnded(pod: podName, container: container, exitCode: exitCode, reason: terminated["reason"]?.stringValue))
            if exitCode != 0 { return true }
        }
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Shows what is new in the container's log; false when the log could not be read this time.
    private func stream(pod: String, container: String, key: String, follow: Bool) throws -> Bool {
        let sink = SkippingSink(skip: shown[key] ?? 0) { [onLog] bytes in onLog(pod, container, bytes) }
        defer { shown[key] = max(shown[key] ?? 0, sink.offset) }
        do {
            try client.log(namespace: options.namespace, pod: pod, container: container, follow: follow, sink: sink)
            return true
        } catch let error as KubeError where error.code == 400 || error.code == 404 || error.code == 0 || error.code >= 500 {
            // Not served yet (the node agent restarting), gone, or the connection dropped
            // mid-stream: the next turn decides, resuming after what was shown.
            return false
        }
    }

    /// A multi-worker Job: Indexed, more than one pod at a time.
    public static func hasRanks(_ job: JSONValue) -> Bool {
        job.value(at: "spec.completionMode")?.stringValue == "Indexed" && (job.value(at: "spec.parallelism")?.intValue ?? 1) > 1
    }

    /// The rank (completion index) a pod of an Indexed Job runs.
    public static func rank(of pod: JSONValue) -> Int? { JobIndexAnnotations.index(of: pod) }

    public static func state(of container: String, in pod: JSONValue) -> JSONValue? {
        pod.allContainerStatuses.first { $0["name"]?.stringValue == container }?["state"]
    }

    static func hasStarted(_ pod: JSONValue) -> Bool {
        pod.allContainerStatuses.contains { $0.value(at: "state.running") != nil || $0.value(at: "state.terminated") != nil }
    }

    static func waitingReason(_ pod: JSONValue) -> String? {
        if let reason = pod.allContainerStatuses.lazy.compactMap({ $0.value(at: "state.waiting.reason")?.stringValue }).first { return reason }
        if pod.value(at: "spec.nodeName")?.stringValue == nil { return "waiting for a node" }
        return nil
    }
}

/// Passes on what follows the first `skip` bytes (none by default), counting everything seen.
public final class SkippingSink: ByteSink {
    public private(set) var offset: Int64 = 0
    private let skip: Int64
    private let forward: (UnsafeRawBufferPointer) -> Void

    public init(skip: Int64 = 0, forward: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.skip = skip
        self.forward = forward
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        let start = offset
        offset += Int64(bytes.count)
        guard offset > skip else { return }
        let from = Int(max(0, skip - start))
        forward(UnsafeRawBufferPointer(rebasing: bytes[from...]))
    }

    public func finish() throws {}
}
