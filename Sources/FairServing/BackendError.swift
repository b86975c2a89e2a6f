/// How an exchange with a pod failed, which decides whether the request may go to another pod.
enum BackendError: Error, CustomStringConvertible {
    /// Connecting failed (refused, unreachable, timed out): nothing reached the pod.
    case connectFailed(Backend, String)
    /// The connection ended before any of the response arrived: a pooled keep-alive connection
    /// the pod had already closed, or a pod that stopped while it had the request.
    case closedBeforeResponse(Backend, String)
    /// What arrived is not an HTTP response (or ends inside its head): the pod did answer, badly.
    case invalidResponse(Backend, String)
    /// The connection ended after the response head, inside the body.
    case closedMidResponse(Backend, String)
    /// Sending a streamed request body to the pod failed.
    case requestBodyFailed(Backend, String)

    /// Nothing of the response arrived, so the request can be sent again elsewhere (if its
    /// body can be sent again too).
    var isRetriable: Bool {
        switch self {
        case .connectFailed, .closedBeforeResponse: return true
        case .invalidResponse, .closedMidResponse, .requestBodyFailed: return false
        }
    }

    var description: String {
        switch self {
        case let .connectFailed(backend, why): return "cannot connect to \(backend): \(why)"
        case let .closedBeforeResponse(backend, why): return "\(backend) closed the connection before answering (\(why))"
        case let .invalidResponse(backend, why): return "\(backend) sent an invalid HTTP response (\(why))"
        case let .closedMidResponse(backend, why): return "\(backend) stopped in the middle of its response (\(why))"
        case let .requestBodyFailed(backend, why): return "sending the request body to \(backend) failed (\(why))"
        }
    }
}
