import FairArchive
import FairHTTP
import FairKube
import Foundation

/// What fair asks of a serving data pod (`fair-data.py`), each request through the API server's
/// pod proxy. Bodies stream both ways: no file is ever held in memory whole.
public struct DataPodClient: Sendable {
    let client: KubeClient
    let pod: DataPod
    let token: String

    public init(client: KubeClient, pod: DataPod, token: String) {
        self.client = client
        self.pod = pod
        self.token = token
    }

    private var location: String { pod.location.description }

    /// Every regular file under the claim's directory. `DataTransferError.pathNotFound` when the
    /// directory is not there.
    public func manifest() throws -> DataManifest {
        let sink = DataManifestSink()
        let response = try send("GET", "/manifest", sink: sink)
        // The program's own 404 (a `Status` would be the API server's: no such pod).
        if response.status == 404, let object = try? JSONCoding.decode(Data(response.body)), let error = object["error"]?.stringValue {
            throw DataTransferError.pathNotFound(location: location, detail: error)
        }
        try check(response, file: nil)
        do {
            try sink.finish()
        } catch let error as DataManifestSink.Malformed {
            throw DataTransferError.refused(location: location, file: nil, status: response.status, message: error.description)
        }
        guard sink.ended else { throw DataTransferError.incompleteManifest(location: location) }
        return sink.manifest
    }

    /// Sends `length` bytes of the open file `descriptor` to `path`. The pod checks them against
    /// `sha256` before the file appears there, whole.
    public func upload(_ path: String, descriptor: Int32, localName: String, length: Int64, sha256: String, mode: UInt16,
                       progress: @escaping (Int64) -> Void) throws {
        let response = try send("PUT", "/files/" + DataPath.encoded(path),
                                headers: [("Content-Type", "application/octet-stream"), ("X-Fair-Sha256", sha256),
                                          ("X-Fair-Mode", String(mode, radix: 8))],
                                body: .descriptor(descriptor, name: localName, length: length),
                                progress: { sent, _ in progress(sent) })
        try check(response, file: path)
    }

    /// Streams `path`'s bytes into `sink` (not finished here).
    public func download(_ path: String, into sink: ByteSink, progress: @escaping (Int64) -> Void) throws {
        let response = try send("GET", "/files/" + DataPath.encoded(path), sink: sink, progress: { _, received in progress(received) })
        try check(response, file: path)
    }

    public func setMode(_ path: String, mode: UInt16) throws {
        let response = try send("POST", "/modes/" + DataPath.encoded(path), headers: [("X-Fair-Mode", String(mode, radix: 8))])
        try check(response, file: path)
    }

    /// Tells the program to exit; whether it heard does not matter (the pod is deleted next).
    public func done() {
        _ = try? send("POST", "/done")
    }

    private func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: HTTPBody = .empty,
                      sink: ByteSink? = nil, progress: ((Int64, Int64) -> Void)? = nil) throws -> HTTPResponse {
        try client.proxy(method, namespace: pod.namespace, pod: pod.name, port: DataPod.port, path: path,
                         headers: [(DataPod.tokenHeader, token)] + headers,
                         body: body, sink: sink, progress: progress)
    }

    /// A failed request as an error naming the file: the pod's own `{"error": …}`, or the API
    /// server's `Status` (no right to proxy, the pod gone).
    private func check(_ response: HTTPResponse, file: String?) throws {
        guard !response.isSuccess else { return }
        let message = Self.message(of: response) ?? "HTTP \(response.status)"
        throw DataTransferError.refused(location: location, file: file, status: response.status, message: message)
    }

    static func message(of response: HTTPResponse) -> String? {
        if let object = try? JSONCoding.decode(Data(response.body)) {
            if let error = object["error"]?.stringValue { return error }
            if let message = object["message"]?.stringValue { return message }
        }
        let text = String(decoding: response.body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
