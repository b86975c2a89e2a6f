import FairArchive
import FairHTTP

/// How a `KubeClient`'s requests reach the API server: over HTTPS (`HTTPClient`, any cluster), or
/// handed to the bundled API server's handlers in the same process, through the same
/// authentication, admission, storage and watch code (no TLS, no sockets). Either way the
/// client sees the same statuses, headers and bodies.
public protocol KubeTransport: Sendable {
    /// Performs one exchange. A 2xx body streams into `sink` when one is given (watches, logs);
    /// otherwise, and for every other status, it is collected into the response, up to
    /// `maxBodyBytes`. Errors of the transport itself are `HTTPError`s.
    func send(_ request: HTTPRequest, sink: ByteSink?, maxBodyBytes: Int) throws -> HTTPResponse
}

extension HTTPClient: KubeTransport {
    public func send(_ request: HTTPRequest, sink: ByteSink?, maxBodyBytes: Int) throws -> HTTPResponse {
        try send(request, sink: sink, maxBodyBytes: maxBodyBytes, progress: nil)
    }
}
