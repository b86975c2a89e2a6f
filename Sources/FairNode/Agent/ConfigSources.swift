import FairKube
import Foundation

/// The two kinds of object a pod reads keys from, for env and volumes alike.
enum ConfigKind {
    case configMap, secret

    /// As kubelet's messages name it: `configmap "x" not found`, `… in Secret ns/x`.
    var lowercased: String { self == .configMap ? "configmap" : "secret" }
    var title: String { self == .configMap ? "ConfigMap" : "Secret" }
}

/// Reads the keys of a ConfigMap (`data` and `binaryData`) or a Secret (`data`, decoded) in the
/// pod's namespace; nil when there is no such object. Values stay bytes until they reach a file
/// or an env entry, and are never put in a message.
struct ConfigSources {
    var read: (_ kind: ConfigKind, _ namespace: String, _ name: String) throws -> [String: [UInt8]]?

    /// Through the API, as the node agent reads them.
    static func api(_ client: KubeClient) -> ConfigSources {
        ConfigSources { kind, namespace, name in
            do {
                switch kind {
                case .configMap: return ConfigMap(json: try client.get(.configMaps, namespace: namespace, name: name)).contents
                case .secret: return SecretData.decoded(try client.get(.secrets, namespace: namespace, name: name))
                }
            } catch let error as KubeError where error.isNotFound {
                return nil
            }
        }
    }
}
