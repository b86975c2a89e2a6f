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
    /// A service-account token for a pod (a projected `serviceAccountToken`), asked of the API
    /// server's TokenRequest as kubelet asks; nil where no API server issues them.
    var token: ((TokenAsk) throws -> String)? = nil
    /// The host directory of the volume a claim is bound to (a `persistentVolumeClaim` volume).
    var claimedPath: ((_ namespace: String, _ claim: String) throws -> String)? = nil

    struct TokenAsk {
        var namespace: String
        var serviceAccount: String
        var podName: String
        var podUID: String
        /// Empty: the API server's own audience.
        var audience: String
        var expirationSeconds: Int64
    }

    /// Through the API, as the node agent reads them.
    static func api(_ client: KubeClient) -> ConfigSources {
        ConfigSources(read: { kind, namespace, name in
            do {
                switch kind {
                case .configMap: return ConfigMap(json: try client.get(.configMaps, namespace: namespace, name: name)).contents
                case .secret: return SecretData.decoded(try client.get(.secrets, namespace: namespace, name: name))
                }
            } catch let error as KubeError where error.isNotFound {
                return nil
            }
        }, token: { ask in
            var spec: JSONValue = [
                "expirationSeconds": .int(ask.expirationSeconds),
                "boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": .string(ask.podName), "uid": .string(ask.podUID)],
            ]
            if !ask.audience.isEmpty { spec["audiences"] = [.string(ask.audience)] }
            let answer = try client.post(.serviceAccounts, namespace: ask.namespace, name: ask.serviceAccount, subresource: "token",
                                         ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec])
            guard let token = answer.value(at: "status.token")?.stringValue, !token.isEmpty else {
                throw ContainerConfigError(message: "the API server answered a token request for service account \(ask.namespace)/\(ask.serviceAccount) without a token")
            }
            return token
        }, claimedPath: { namespace, name in
            let claim: JSONValue
            do {
                claim = try client.get(.persistentVolumeClaims, namespace: namespace, name: name)
            } catch let error as KubeError where error.isNotFound {
                throw ContainerConfigError(message: "persistentvolumeclaim \"\(name)\" not found")
            }
            guard claim.value(at: "status.phase")?.stringValue == "Bound", let volumeName = claim.value(at: "spec.volumeName")?.stringValue else {
                throw ContainerConfigError(message: "persistentvolumeclaim \"\(name)\" is not bound")
            }
            let volume = try client.get(.persistentVolumes, name: volumeName)
            guard let path = volume.value(at: "spec.hostPath.path")?.stringValue ?? volume.value(at: "spec.local.path")?.stringValue else {
                throw ContainerConfigError(message: "persistentvolume \"\(volumeName)\" of claim \"\(name)\" is neither hostPath nor local, which this node cannot mount")
            }
            return path
        })
    }
}
