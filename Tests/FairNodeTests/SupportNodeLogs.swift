@testable import FairNode
import FairHTTP
import FairTLS
import Foundation

/// Asks a node's log server over TLS, as the API server does (its client certificate, the key
/// the node published) or as someone else would, to see who gets in.
enum TestNodeLogs {
    enum Caller {
        /// The API server's client certificate from the cluster's data directory.
        case apiServer
        /// No client certificate at all (a bearer token is all it has).
        case anonymous(token: String?)
        /// A certificate and key in PEM files.
        case certificate(file: String, key: String)
    }

    static func get(_ agent: NodeAgent, cluster: TestCluster, path: String, as caller: Caller = .apiServer,
                    pin: String? = nil, timeout: TimeInterval = 10) throws -> TestHTTPResponse {
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = 5
        configuration.stallTimeout = timeout
        configuration.verifiesServer = false
        configuration.pinnedPublicKey = pin ?? agent.servingPin
        var headers = HTTPHeaders()
        switch caller {
        case .apiServer:
            configuration.clientCertificateFile = "\(cluster.directory)/server/tls/kubelet-client.crt"
            configuration.clientKeyFile = "\(cluster.directory)/server/tls/kubelet-client.key"
        case let .anonymous(token):
            if let token { headers.set("Authorization", "Bearer \(token)") }
        case let .certificate(file, key):
            configuration.clientCertificateFile = file
            configuration.clientKeyFile = key
        }
        let response = try HTTPClient(configuration: configuration)
            .send(HTTPRequest(method: "GET", url: "https://127.0.0.1:\(agent.kubeletPort)\(path)", headers: headers))
        return TestHTTPResponse(status: response.status, body: String(decoding: response.body, as: UTF8.self))
    }

    /// Writes `identity` to two files in `directory` and returns the caller that presents it.
    static func caller(presenting identity: TLSIdentity, in directory: String, name: String) throws -> Caller {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = "\(directory)/\(name).crt", key = "\(directory)/\(name).key"
        try identity.write(certificatePath: file, keyPath: key)
        return .certificate(file: file, key: key)
    }
}
