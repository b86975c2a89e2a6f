import FairArchive
import FairKube
import Foundation

/// One data pod's life: the claim is checked, the tools shipped, the pod created and waited for
/// until it serves; `stop` ends it whatever happened in between, so a transfer leaves no pod.
public final class DataPodSession: @unchecked Sendable {
    public let client: KubeClient
    public let pod: DataPod
    /// How long the pod may take to serve (its image may have to be pulled first).
    public var startTimeout: TimeInterval = 300
    public var pollInterval: TimeInterval = 0.25
    private var created = false
    private var secretCreated = false
    /// The transfer's token: in a Secret for the pod, in each request from fair.
    private let token = DataPod.newToken()

    public init(client: KubeClient, pod: DataPod) {
        self.client = client
        self.pod = pod
    }

    /// How fair talks to the pod once it serves.
    public var endpoint: DataPodClient { DataPodClient(client: client, pod: pod, token: token) }

    public func start(progress: (String) -> Void) throws {
        // A pod for a missing claim would only wait, unschedulable: say so at once instead.
        do {
            _ = try client.get(.persistentVolumeClaims, namespace: pod.namespace, name: pod.location.claim)
        } catch let error as KubeError where error.code == 404 {
            throw DataTransferError.claimNotFound(claim: pod.location.claim, namespace: pod.namespace)
        }
        try ModelTools.apply(with: client, namespace: pod.namespace)
        _ = try client.create(.secrets, namespace: pod.namespace, pod.tokenSecret(token: token))
        secretCreated = true
        let created = try client.create(.pods, namespace: pod.namespace, pod.manifest)
        self.created = true
        // Owned by the pod from now on: garbage-collected with it if fair never gets to `stop`.
        if let uid = created.uid {
            _ = try? client.mergePatch(.secrets, namespace: pod.namespace, name: pod.name, [
                "metadata": ["ownerReferences": [["apiVersion": "v1", "kind": "Pod", "name": .string(pod.name), "uid": .string(uid)]]],
            ])
        }
        try waitUntilReady(progress: progress)
    }

    /// Tells the program it is done (it exits, so the pod ends Succeeded), then deletes the pod.
    /// Errors are ignored: there is nothing more to do about a pod that is already gone.
    public func stop() {
        if created {
            created = false
            endpoint.done()
            try? client.delete(.pods, namespace: pod.namespace, name: pod.name)
        }
        if secretCreated {
            secretCreated = false
            try? client.delete(.secrets, namespace: pod.namespace, name: pod.name)
        }
    }

    private func waitUntilReady(progress: (String) -> Void) throws {
        let deadline = Date().addingTimeInterval(startTimeout)
        var last = ""
        while true {
            let object = try client.get(.pods, namespace: pod.namespace, name: pod.name)
            let status = Pod(json: object).status
            if status.conditions.contains(where: { $0.type == "Ready" && $0.status == "True" }) { return }
            if let problem = PodProblem.detect(in: object) {
                throw DataTransferError.podCannotStart(pod: pod.name, location: pod.location.description, problem: problem.description)
            }
            if status.hasFinished {
                throw DataTransferError.podEnded(pod: pod.name, location: pod.location.description, detail: ending(of: object))
            }
            let state = Self.state(of: object)
            if state != last {
                progress("waiting for data pod \(pod.name): \(state)")
                last = state
            }
            if Date() > deadline {
                throw DataTransferError.podNotReady(pod: pod.name, location: pod.location.description, seconds: Int(startTimeout), state: state)
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    /// `Pending (ContainerCreating)`, `Running, not ready yet`: what the pod is doing.
    static func state(of pod: JSONValue) -> String {
        let phase = pod.value(at: "status.phase")?.stringValue ?? "Pending"
        if let waiting = pod.allContainerStatuses.compactMap({ $0.value(at: "state.waiting.reason")?.stringValue }).first {
            return "\(phase) (\(waiting))"
        }
        if let scheduled = Pod(json: pod).status.conditions.first(where: { $0.type == "PodScheduled" }), scheduled.status != "True" {
            return "\(phase) (\(scheduled.message ?? scheduled.reason ?? "not scheduled yet"))"
        }
        return phase == "Running" ? "Running, not ready yet" : phase
    }

    /// How the container ended, and the last lines it wrote (what says why).
    private func ending(of object: JSONValue) -> String {
        let terminated = object.allContainerStatuses.compactMap { $0.value(at: "state.terminated") }.first
        var detail = object.value(at: "status.reason")?.stringValue.map { "\($0): \(object.value(at: "status.message")?.stringValue ?? "")" } ?? ""
        if let terminated {
            let reason = terminated["reason"]?.stringValue ?? "Terminated"
            detail = "\(reason), exit code \(terminated["exitCode"]?.intValue ?? -1)"
            if let message = terminated["message"]?.stringValue, !message.isEmpty { detail += ": \(message)" }
        }
        let sink = CollectingSink(limit: 65536, name: "the log of \(pod.name)")
        if (try? client.log(namespace: pod.namespace, pod: pod.name, container: DataPod.container, tailLines: 10, sink: sink)) != nil {
            let output = String(decoding: sink.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !output.isEmpty { detail += "; its last output:\n" + output }
        }
        return detail.isEmpty ? "it is \(object.value(at: "status.phase")?.stringValue ?? "gone")" : detail
    }
}
