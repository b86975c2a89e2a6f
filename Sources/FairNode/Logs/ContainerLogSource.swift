import Foundation

/// Where one container instance's log is and whether it may still grow: what the log server
/// needs from the agent to answer a request.
public struct ContainerLogSource: Sendable {
    /// nil when the instance writes no file (the fake runtime): the log is empty.
    public var path: String?
    /// False once the instance has exited; following stops when the file is drained after that.
    public var isRunning: @Sendable () -> Bool
    /// Called once a followed instance is seen to have exited, before its stream ends: returns
    /// when the pod's status says so too (bounded), so a client that reads the status after the
    /// stream ends (Airflow does, to decide whether to read again) sees the container ended.
    public var settle: (@Sendable () async -> Void)?

    public init(path: String?, isRunning: @escaping @Sendable () -> Bool, settle: (@Sendable () async -> Void)? = nil) {
        self.path = path
        self.isRunning = isRunning
        self.settle = settle
    }
}

/// Why a log request cannot be served, with the HTTP status kubelet uses for it.
public struct ContainerLogError: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var message: String

    public static func notFound(_ message: String) -> ContainerLogError { .init(status: 404, message: message) }
    public static func badRequest(_ message: String) -> ContainerLogError { .init(status: 400, message: message) }

    public var description: String { message }
}

/// The query of `GET /containerLogs/{namespace}/{pod}/{container}`.
public struct ContainerLogOptions: Sendable, Equatable {
    public var follow = false
    public var tailLines: Int?
    public var timestamps = false
    public var previous = false
    /// Only lines written at or after this time (`sinceTime`, or now minus `sinceSeconds`).
    public var since: Date?
    /// Stop after this many bytes of output (`limitBytes`).
    public var limitBytes: Int?

    public init(follow: Bool = false, tailLines: Int? = nil, timestamps: Bool = false, previous: Bool = false) {
        self.follow = follow
        self.tailLines = tailLines
        self.timestamps = timestamps
        self.previous = previous
    }
}

/// Finds the log of a container of a pod on this node.
public typealias ContainerLogLocator = @Sendable (_ namespace: String, _ pod: String, _ container: String, _ previous: Bool) throws -> ContainerLogSource
