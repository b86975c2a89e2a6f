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
    }

    static func resolve(flag: String?, project: String?, client: KubeClient) throws -> Hosts {
        if let chosen = flag ?? project {
            let host = chosen.hasSuffix("/") ? String(chosen.dropLast()) : chosen
            return Hosts(push: host, cluster: host)
        }
        guard let hosting = try LocalRegistryHosting.read(from: client) else {
            throw NotFound(server: client.config.server)
        }
        return Hosts(push: hosting.host, cluster: hosting.imageHost)
    }
}
