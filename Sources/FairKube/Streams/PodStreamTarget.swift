/// The container a pod stream (exec, attach) goes to, checked as kube-apiserver checks it before
/// proxying (`pod/strategy.go`: `streamLocation`, `validateContainer`), with its 400 messages.
public struct PodStreamTarget: Equatable, Sendable {
    public var nodeName: String
    public var container: String

    public init(pod: Pod, podName: String, requestedContainer: String?) throws(PodStreamError) {
        let spec = pod.spec
        let container: String
        if let requested = requestedContainer, !requested.isEmpty {
            let names = (spec.containers + spec.initContainers).compactMap(\.name)
                + (spec.json["ephemeralContainers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            guard names.contains(requested) else { throw .invalidContainer(requested, pod: podName) }
            container = requested
        } else {
            let names = spec.containers.compactMap(\.name)
            guard names.count == 1 else { throw .containerRequired(pod: podName, choices: names) }
            container = names[0]
        }
        guard let nodeName = spec.nodeName else { throw .noHost(pod: podName) }
        self.nodeName = nodeName
        self.container = container
    }
}

/// Why a stream into a pod was refused before it started (all 400 Bad Request in kube).
public enum PodStreamError: Error, Equatable, CustomStringConvertible {
    case containerRequired(pod: String, choices: [String])
    case invalidContainer(String, pod: String)
    case noHost(pod: String)
    /// Exec without a command.
    case commandRequired
    /// None of stdin, stdout and stderr asked for.
    case noStreams

    public var description: String {
        switch self {
        case let .containerRequired(pod, choices) where choices.isEmpty:
            return "a container name must be specified for pod \(pod)"
        case let .containerRequired(pod, choices):
            return "a container name must be specified for pod \(pod), choose one of: [\(choices.joined(separator: " "))]"
        case let .invalidContainer(container, pod):
            return "container \(container) is not valid for pod \(pod)"
        case let .noHost(pod):
            return "pod \(pod) does not have a host assigned"
        case .commandRequired:
            return "you must specify at least 1 command"
        case .noStreams:
            return "you must specify at least one of stdin, stdout, stderr"
        }
    }
}
