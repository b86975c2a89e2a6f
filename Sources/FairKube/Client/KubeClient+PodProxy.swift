import FairArchive
import FairHTTP
import Foundation

extension KubeClient {
    /// One request to a pod's HTTP server through the API server's pod proxy,
    /// `pods/NAME:PORT/proxy/PATH`, which every Kubernetes API server serves: a pod is reached
    /// with the cluster's credentials alone, wherever it runs. `path` starts with `/` and is sent
    /// as given (percent-encoded by the caller). A 2xx body streams into `sink` when one is
    /// given; any other is collected (up to 1 MiB) so its error can be read. `progress` hears
    /// (bytes sent, bytes received) as they move, over HTTPS.
    public func proxy(_ method: String, namespace: String, pod: String, port: Int, path: String, headers: [(String, String)] = [],
                      body: HTTPBody = .empty, sink: ByteSink? = nil, maxBodyBytes: Int = 1 << 20,
                      progress: ((Int64, Int64) -> Void)? = nil) throws -> HTTPResponse {
        let server = config.server.hasSuffix("/") ? String(config.server.dropLast()) : config.server
        let url = "\(server)/api/v1/namespaces/\(namespace)/pods/\(pod):\(port)/proxy\(path)"
        var requestHeaders = HTTPHeaders(headers)
        if let token = config.token { requestHeaders.set("Authorization", "Bearer \(token)") }
        let request = HTTPRequest(method: method, url: url, headers: requestHeaders, body: body)
        do {
            if let https { return try https.send(request, sink: sink, maxBodyBytes: maxBodyBytes, progress: progress) }
            return try http.send(request, sink: sink, maxBodyBytes: maxBodyBytes)
        } catch let error as HTTPError {
            // The sink's own failure (a full disk) is the caller's to report, not the network's.
            if case .sink = error { throw error }
            throw KubeError(code: 0, reason: "Unreachable", message: "cannot reach the API server \(config.server): \(error.description)")
        }
    }
}
