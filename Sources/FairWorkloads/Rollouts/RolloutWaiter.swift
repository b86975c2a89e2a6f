import FairKube
import FairArchive
import Foundation

/// Waits for a Deployment's rollout as `kubectl rollout status` does (every replica updated,
/// available, and no old ones left), but gives up at once when a pod shows a problem that will
/// not go away by itself: no node fits, the image or model cannot be fetched, the server crashes.
public struct RolloutWaiter {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Waiting reasons that end a rollout wait: those of PodProblem, and a crashing container.
    static let failingReasons = PodProblem.stuckWaitingReasons.union(["CrashLoopBackOff"])

    let client: KubeClient
    let namespace: String
    let name: String
    public var timeout: TimeInterval = 300
    public var pollInterval: TimeInterval = 0.25

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    /// Returns once rolled out; `progress` hears each change of "n of m updated, k available".
    public func wait(progress: (String) -> Void = { _ in }) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while true {
            let deployment = try client.get(.deployments, namespace: namespace, name: name)
            let wanted = deployment.value(at: "spec.replicas")?.intValue ?? 1
            let status = deployment["status"] ?? [:]
            let observed = status["observedGeneration"]?.intValue ?? 0
            let generation = deployment.value(at: "metadata.generation")?.intValue ?? 0
            let updated = status["updatedReplicas"]?.intValue ?? 0
            let available = status["availableReplicas"]?.intValue ?? 0
            let total = status["replicas"]?.intValue ?? 0
            if observed >= generation && updated == wanted && total == wanted && available == wanted { return }

            let line = "\(updated) of \(wanted) updated, \(available) available" + (total > wanted ? ", \(total - wanted) old terminating" : "")
            if line != last {
                progress(line)
                last = line
            }
            if let problem = try podProblem(selector: deployment.value(at: "spec.selector.matchLabels")) {
                throw Failure(description: "deployment \(name) cannot roll out: \(problem)")
            }
            if Date() > deadline {
                throw Failure(description: "deployment \(name) did not roll out in \(Int(timeout))s (\(line)); see kubectl describe deployment \(name) -n \(namespace)")
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    private func podProblem(selector: JSONValue?) throws -> String? {
        guard let labels = selector?.objectValue, !labels.isEmpty else { return nil }
        let query = labels.keys.sorted().compactMap { key in labels[key]?.stringValue.map { "\(key)=\($0)" } }.joined(separator: ",")
        let pods = try client.list(.pods, namespace: namespace, labelSelector: query)["items"]?.arrayValue ?? []
        for pod in pods where pod.value(at: "metadata.deletionTimestamp") == nil {
            if let problem = PodProblem.detect(in: pod) { return "pod \(pod.name ?? ""): \(problem)" }
            for status in pod.allContainerStatuses {
                guard let reason = status.value(at: "state.waiting.reason")?.stringValue, Self.failingReasons.contains(reason) else { continue }
                let container = status["name"]?.stringValue ?? "?"
                var detail = "pod \(pod.name ?? ""): container \(container): \(reason)"
                if let exitCode = status.value(at: "lastState.terminated.exitCode")?.intValue { detail += " (exit code \(exitCode))" }
                if let output = try? tail(pod: pod.name ?? "", container: container), !output.isEmpty {
                    detail += "; its last output:\n" + output
                }
                return detail
            }
        }
        return nil
    }

    /// The last lines a crashed container printed (what says why it crashed).
    private func tail(pod: String, container: String) throws -> String {
        let sink = CollectingSink(limit: 65536, name: "the log of \(container)")
        try client.log(namespace: namespace, pod: pod, container: container, tailLines: 15, sink: sink)
        return String(decoding: sink.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
