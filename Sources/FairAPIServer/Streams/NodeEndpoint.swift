import FairHTTP
import FairKube
import Foundation

/// Where a node agent serves what only it has (logs, exec), and how to know it is that node:
/// the port it publishes in `status.daemonEndpoints`, its InternalIP, and the serving key it
/// publishes with its Node. Refusals are the 503s kube-apiserver gives when it
/// cannot reach a kubelet.
struct NodeEndpoint: Sendable {
    let name: String
    /// The node's InternalIP.
    let address: String
    /// For a URL: an IPv6 address is bracketed.
    var host: String { address.contains(":") ? "[\(address)]" : address }
    let port: Int
    let pin: String

    static func resolve(store: ObjectStore, nodeName: String, credential: NodeClientCredential?, serving what: String) throws -> NodeEndpoint {
        let nodes = KindDefinition.node
        guard let node = store.get(nodes.storageKey, namespace: "", name: nodeName)?.object,
              let port = node.value(at: "status.daemonEndpoints.kubeletEndpoint.Port")?.intValue, port > 0 else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "node \"\(nodeName)\" does not serve \(what) (no kubelet endpoint)")
        }
        guard credential != nil else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "this API server has no client certificate for nodes, so it cannot ask node \"\(nodeName)\" for \(what)")
        }
        guard let pin = node.value(at: ["metadata", "annotations", NodeServingKey.annotation])?.stringValue, pin.hasPrefix("sha256//") else {
            throw APIError(code: 503, reason: "ServiceUnavailable",
                           message: "node \"\(nodeName)\" publishes no serving key (annotation \(NodeServingKey.annotation)), so its \(what) endpoint cannot be trusted")
        }
        let address = (node.value(at: "status.addresses")?.arrayValue ?? [])
            .first { $0["type"]?.stringValue == "InternalIP" }?["address"]?.stringValue ?? "127.0.0.1"
        return NodeEndpoint(name: nodeName, address: address, port: Int(port), pin: pin)
    }

    /// `https://HOST:PORT/PATH?QUERY` (or `wss://`), with the path's segments escaped.
    func url(scheme: String, path: [String], query: [URLQueryItem]) -> String? {
        var components = URLComponents()
        components.scheme = scheme
        components.percentEncodedHost = host
        components.port = port
        components.path = "/" + path.joined(separator: "/")
        if !query.isEmpty {
            components.queryItems = query
            // URLComponents leaves `+` alone, which a form decoder reads as a space.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        return components.string
    }
}

extension NodeEndpoint {
    /// `/PATH?QUERY` as sent on the wire, escaped as `url(...)` escapes it.
    func target(path: [String], query: [URLQueryItem]) -> String? {
        guard let url = url(scheme: "https", path: path, query: query), let components = URLComponents(string: url) else { return nil }
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }
}

extension NodeEndpoint {
    /// A client that talks only to this node, the holder of the key it published, proving
    /// itself with the API server's client certificate. `stallTimeout`: how long the node may
    /// send nothing (a followed log may be quiet for hours; a summary is quick).
    func client(credential: NodeClientCredential, connectTimeout: Double = 5, stallTimeout: Double) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = connectTimeout
        configuration.stallTimeout = stallTimeout
        configuration.maxRedirects = 0
        // The key, not a chain, is what identifies the node (its certificate may sign itself).
        configuration.verifiesServer = false
        configuration.pinnedPublicKey = pin
        configuration.clientCertificateFile = credential.certificateFile
        configuration.clientKeyFile = credential.keyFile
        return HTTPClient(configuration: configuration)
    }
}
