import FairKube
import Foundation

/// How a followed Job ended.
public struct JobOutcome: Sendable, Equatable {
    public enum State: String, Sendable {
        case complete, failed
    }

    public var state: State
    /// Kubernetes' reason (BackoffLimitExceeded, DeadlineExceeded) or the pod's problem
    /// (Unschedulable, ErrImagePull).
    public var reason: String?
    public var message: String?
    /// Pods the Job ran (each a try at the work).
    public var attempts: Int
    /// The pod that finished the Job (the successful one, or the last tried).
    public var pod: String?
    /// Failed because a pod could not start (a PodProblem), not because the work failed.
    public var cannotStart = false

    public init(state: State, reason: String? = nil, message: String? = nil, attempts: Int, pod: String? = nil, cannotStart: Bool = false) {
        self.cannotStart = cannotStart
        self.state = state
        self.reason = reason
        self.message = message
        self.attempts = attempts
        self.pod = pod
    }
}
