import FairKube
import Foundation

/// One container's status as the sync found it, before it becomes JSON.
struct ContainerReport: Equatable {
    enum State: Equatable {
        case waiting(WaitingReason)
        case running(startedAt: Date)
        case terminated(ContainerTermination)
    }

    var name: String
    var image: String
    var imageID: String
    /// "runc://<id>" of the current (or last) instance.
    var containerID: String?
    var restartCount: Int
    var state: State
    var lastTermination: ContainerTermination?
    var ready: Bool

    var isRunning: Bool {
        if case .running = state { return true }
        return false
    }

    var json: JSONValue {
        var status: [String: JSONValue] = [
            "name": .string(name), "image": .string(image), "imageID": .string(imageID),
            "restartCount": .int(Int64(restartCount)), "ready": .bool(ready), "started": .bool(isRunning),
            "state": Self.stateJSON(state),
            "lastState": lastTermination.map { Self.stateJSON(.terminated($0)) } ?? [:],
        ]
        if let containerID { status["containerID"] = .string(containerID) }
        return .object(status)
    }

    private static func stateJSON(_ state: State) -> JSONValue {
        switch state {
        case let .waiting(waiting):
            var fields: [String: JSONValue] = ["reason": .string(waiting.reason)]
            if let message = waiting.message { fields["message"] = .string(message) }
            return ["waiting": .object(fields)]
        case let .running(startedAt):
            return ["running": ["startedAt": .string(KubeTime.format(startedAt))]]
        case let .terminated(termination):
            var fields: [String: JSONValue] = [
                "exitCode": .int(Int64(termination.exitCode)), "reason": .string(termination.reason),
                "finishedAt": .string(KubeTime.format(termination.finishedAt)),
                "containerID": .string(termination.containerID),
            ]
            if let startedAt = termination.startedAt { fields["startedAt"] = .string(KubeTime.format(startedAt)) }
            if let message = termination.message { fields["message"] = .string(message) }
            return ["terminated": .object(fields)]
        }
    }
}

/// The pod phase from its containers, by kubelet's rules (`getPhase`).
enum PodPhase {
    static func compute(_ reports: [ContainerReport], restartPolicy: String) -> String {
        var waiting = 0, running = 0, stopped = 0, succeeded = 0
        for report in reports {
            switch report.state {
            case .running: running += 1
            case let .terminated(termination):
                stopped += 1
                if termination.exitCode == 0 { succeeded += 1 }
            case .waiting:
                // Waiting to restart after a run counts as stopped; never started counts as waiting.
                if report.lastTermination != nil { stopped += 1 } else { waiting += 1 }
            }
        }
        if reports.isEmpty || waiting > 0 { return "Pending" }
        if running > 0 { return "Running" }
        // Every container has stopped.
        if restartPolicy == "Always" { return "Running" }
        if stopped == succeeded { return "Succeeded" }
        if restartPolicy == "Never" { return "Failed" }
        return "Running"
    }

    /// While init containers run: Pending, or Failed once one failed and will not be retried.
    static func initializing(_ initReports: [ContainerReport], restartPolicy: String) -> String {
        let failed = initReports.contains { report in
            if case let .terminated(termination) = report.state { return termination.exitCode != 0 }
            return false
        }
        return failed && restartPolicy == "Never" ? "Failed" : "Pending"
    }

    static func isTerminal(_ phase: String?) -> Bool { phase == "Succeeded" || phase == "Failed" }
}
