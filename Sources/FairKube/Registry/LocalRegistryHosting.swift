import Foundation
import Yams

/// Where a cluster's own registry is, as kind, k3d, minikube and Tilt publish it (KEP-1755): the
/// ConfigMap `kube-public/local-registry-hosting`, whose `localRegistryHosting.v1` is a small YAML
/// document with `host` (pushed to from this machine) and `hostFromContainerRuntime` (what image
/// references must name for nodes to pull). `fair server` writes it; `fair train` reads it when no
/// registry is given, so it works unchanged against any cluster that publishes one.
public struct LocalRegistryHosting: Sendable, Equatable {
    public static let namespace = "kube-public"
    public static let name = "local-registry-hosting"
    public static let key = "localRegistryHosting.v1"

    public var host: String
    public var hostFromContainerRuntime: String?
    public var help: String?
    /// Where on the API server a service account's registry token is exchanged for a registry
    /// token (fair's own registry only; `RegistryAccountAccess`), kept under a key of its own so
    /// the KEP's document stays as other tools read it.
    public var accountTokenPath: String?

    public init(host: String, hostFromContainerRuntime: String? = nil, help: String? = nil, accountTokenPath: String? = nil) {
        self.host = host
        self.hostFromContainerRuntime = hostFromContainerRuntime
        self.help = help
        self.accountTokenPath = accountTokenPath
    }

    /// The host image references should use: the runtime's view when it differs.
    public var imageHost: String { hostFromContainerRuntime ?? host }

    public var configMap: JSONValue {
        var document = "host: \"\(host)\"\n"
        if let hostFromContainerRuntime { document += "hostFromContainerRuntime: \"\(hostFromContainerRuntime)\"\n" }
        if let help { document += "help: \"\(help)\"\n" }
        var data: [String: JSONValue] = [Self.key: .string(document)]
        if let accountTokenPath { data[RegistryAccountAccess.hostingKey] = .string(accountTokenPath) }
        return [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(Self.name), "namespace": .string(Self.namespace)],
            "data": .object(data),
        ]
    }

    /// The cluster's published registry, or nil when it publishes none.
    public static func read(from client: KubeClient) throws -> LocalRegistryHosting? {
        let configMap: JSONValue
        do {
            configMap = try client.get(.configMaps, namespace: namespace, name: name)
        } catch let error as KubeError where error.code == 404 || error.code == 403 {
            return nil
        }
        guard let text = configMap["data"]?[key]?.stringValue,
              let fields = try? Yams.load(yaml: text) as? [String: Any],
              let host = fields["host"] as? String, !host.isEmpty else { return nil }
        return LocalRegistryHosting(host: host, hostFromContainerRuntime: fields["hostFromContainerRuntime"] as? String,
                                    help: fields["help"] as? String,
                                    accountTokenPath: configMap["data"]?[RegistryAccountAccess.hostingKey]?.stringValue)
    }

    /// Creates or replaces the ConfigMap.
    public func publish(with client: KubeClient) throws {
        do {
            _ = try client.create(.configMaps, namespace: Self.namespace, configMap)
        } catch let error as KubeError where error.code == 409 {
            _ = try client.mergePatch(.configMaps, namespace: Self.namespace, name: Self.name, ["data": configMap["data"]!])
        }
    }
}
