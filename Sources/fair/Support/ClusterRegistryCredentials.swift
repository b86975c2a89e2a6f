import FairKube
import FairWorkloads
import FairRegistry
import Foundation

/// The credential for a cluster's own registry: the bundled server's registry takes pushes only
/// from whoever holds the cluster's token, so a host that the current kubeconfig's cluster
/// publishes as its registry (`kube-public/local-registry-hosting`) gets that token, the way
/// `fair login` would have stored it. Asked only for loopback hosts the docker configuration has
/// no credentials for, so pushing to any other registry never costs an API request. The token
/// is sent only over TLS, to the registry's token endpoint on the API port (the bundled server
/// serves the registry there too), trusted with the kubeconfig's authority; what crosses
/// loopback in clear is a token for one repository that expires within the hour.
enum ClusterRegistryCredentials {
    static let username = "fair"

    static func lookup(host: String, kubeconfig: String? = nil, context: String? = nil) -> Credentials? {
        guard isLoopback(host), let config = try? Kubeconfig.load(path: kubeconfig, context: context),
              let token = config.token, !token.isEmpty,
              let client = try? KubeClient(config: config),
              let hosting = try? LocalRegistryHosting.read(from: client), hosting.host == host else { return nil }
        return credentials(token, client)
    }

    /// The same, from a client already made (train and serve have one).
    static func forCluster(_ client: KubeClient, host: String) -> Credentials? {
        guard let token = client.config.token, !token.isEmpty else { return nil }
        return credentials(token, client)
    }

    private static func credentials(_ token: String, _ client: KubeClient) -> Credentials {
        let server = client.config.server.hasSuffix("/") ? String(client.config.server.dropLast()) : client.config.server
        return Credentials(username: username, password: token, sendsOnlyOverTLS: true, tokenEndpoint: server + "/v2/token",
                           tokenServerCAFile: client.certificateAuthorityFile)
    }

    static func isLoopback(_ host: String) -> Bool {
        let name: Substring
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            name = host[host.index(after: host.startIndex)..<close]
        } else {
            name = host.split(separator: ":", maxSplits: 1).first ?? ""
        }
        return name == "localhost" || name.hasPrefix("127.") || name == "::1"
    }
}
