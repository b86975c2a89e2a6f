import FairKube
import Foundation

/// The status fields the node owns (phase, addresses, conditions, container statuses), built
/// the same way every time from the same facts, so "changed" is a plain comparison.
struct PodStatusBuilder {
    var pod: JSONValue
    var reports: [ContainerReport]
    var initReports: [ContainerReport]
    var phase: String
    var podIP: String?
    var startTime: String
    /// The conditions written before, whose lastTransitionTime holds while their status does.
    var previousConditions: [Condition]
    var now: Date

    func build() -> JSONValue {
        var status: [String: JSONValue] = [
            "phase": .string(phase),
            "hostIP": "127.0.0.1", "hostIPs": [["ip": "127.0.0.1"]],
            "startTime": .string(startTime),
            "conditions": .array(conditions().map(\.json)),
            "containerStatuses": .array(reports.sorted { $0.name < $1.name }.map(\.json)),
            "qosClass": .string(qosClass()),
        ]
        if !initReports.isEmpty { status["initContainerStatuses"] = .array(initReports.map(\.json)) }
        if let podIP {
            status["podIP"] = .string(podIP)
            status["podIPs"] = [["ip": .string(podIP)]]
        }
        return .object(status)
    }

    private func conditions() -> [Condition] {
        let stamp = KubeTime.format(now)
        func condition(_ type: String, _ value: Bool, reason: String? = nil, message: String? = nil) -> Condition {
            let status = value ? "True" : "False"
            var condition = Condition()
            condition.type = type
            condition.status = status
            condition.stampTransition(since: previousConditions[type], now: stamp)
            condition.reason = reason
            condition.message = message
            return condition
        }
        let scheduled = previousConditions["PodScheduled"] ?? condition("PodScheduled", true)
        let unready = reports.filter { !$0.ready }.map(\.name).sorted()
        let ready = unready.isEmpty && !reports.isEmpty
        var reason: String?, message: String?
        if PodPhase.isTerminal(phase) {
            reason = "PodCompleted"
        } else if !ready {
            reason = "ContainersNotReady"
            message = "containers with unready status: [\(unready.joined(separator: " "))]"
        }
        let incomplete = initReports.filter { !$0.ready }.map(\.name)
        let initialized = incomplete.isEmpty
            ? condition("Initialized", true)
            : condition("Initialized", false, reason: "ContainersNotInitialized",
                        message: "containers with incomplete status: [\(incomplete.joined(separator: " "))]")
        return [
            initialized,
            condition("Ready", ready, reason: reason, message: message),
            condition("ContainersReady", ready, reason: reason, message: message),
            scheduled,
        ]
    }

    /// Guaranteed when every container limits cpu and memory with requests equal to limits;
    /// BestEffort when none asks for anything; Burstable otherwise.
    private func qosClass() -> String {
        let containers = Pod(json: pod).spec.containers
        var anything = false, guaranteed = !containers.isEmpty
        for container in containers {
            let limits = container.resources.limits
            let requests = container.resources.requests
            if !limits.isEmpty || !requests.isEmpty { anything = true }
            for resource in ["cpu", "memory"] {
                guard let limit = Quantity(limits[resource]) else { guaranteed = false; continue }
                if let request = Quantity(requests[resource]), request != limit { guaranteed = false }
            }
        }
        if !anything { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
