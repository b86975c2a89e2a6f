import FairKube
import FairWorkloads
import Foundation

/// The registry a training image and its model go to: the flag, else fair.yaml's
/// `train.registry`, else the one the cluster publishes (`kube-public/local-registry-hosting`,
/// which `fair server`, kind and minikube write).
enum TargetRegistry {
    struct NotFound: Error, CustomStringConvertible {
        var server: String
        var description: String {
            "no registry to push to: \(server) publishes none (kube-public/local-registry-hosting); pass --registry HOST[:PORT] or set train.registry in fair.yaml"
        }
    }

    /// Where to push from here, and what the cluster's nodes and pods call the same registry.
    struct Hosts {
        var push: String
        var cluster: String
        /// The registry is the cluster's own and takes its service accounts' tokens: a training
        /// pod stores its model as its Job's account (`ModelStepAccess`).
        var takesAccountTokens = false
    }

    static func resolve(flag: String?, project: String?, client: KubeClient) throws -> Hosts {
        let hosting = try LocalRegistryHosting.read(from: client)
        if let chosen = flag ?? project {
            let host = chosen.hasSuffix("/") ? String(chosen.dropLast()) : chosen
            let published = hosting.map { [$0.host, $0.imageHost].contains(host) } ?? false
            return Hosts(push: host, cluster: host, takesAccountTokens: published && hosting?.accountTokenPath != nil)
        }
        guard let hosting else {
            throw NotFound(server: client.config.server)
        }
        return Hosts(push: hosting.host, cluster: hosting.imageHost, takesAccountTokens: hosting.accountTokenPath != nil)
    }
}
