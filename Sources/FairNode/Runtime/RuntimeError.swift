/// What went wrong running a container, worded for the pod's events and the node's log.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// runc is missing or does not run.
    case runcUnavailable(path: String, detail: String)
    /// The id cannot name a runc container.
    case invalidContainerID(String)
    /// A container with this id exists already (running or exited); remove it first.
    case alreadyExists(id: String)
    /// The container's process never ran; `detail` is runc's own explanation.
    case startFailed(id: String, detail: String)
    /// The spec cannot be turned into a runnable container (user, paths).
    case invalidSpec(id: String, detail: String)
    /// A runc command failed.
    case runc(command: String, status: Int32, output: String)
    case io(path: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case let .runcUnavailable(path, detail):
            return "runc is not usable (\(path): \(detail)); install it (Debian: apt-get install runc) or set the node's runc path"
        case let .invalidContainerID(id):
            return "invalid container id \"\(id)\": use letters, digits and . _ + - only"
        case let .alreadyExists(id):
            return "container \(id) already exists on this node; remove it before starting it again"
        case let .startFailed(id, detail):
            return "container \(id) could not start: \(detail)"
        case let .invalidSpec(id, detail):
            return "container \(id): \(detail)"
        case let .runc(command, status, output):
            return "\(command) failed (exit status \(status))\(output.isEmpty ? "" : ": \(output)")"
        case let .io(path, operation, detail):
            return "\(operation) \(path): \(detail)"
        }
    }
}
