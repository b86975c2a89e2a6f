import FairKube
import Foundation

/// fair's in-pod tools: `fair-model.py` (stores a trained model as an OCI artifact, and fetches
/// it for serving) and `fair-data.py` (serves a claim's files to `fair data push` and `pull`),
/// shipped in a ConfigMap that training, serving and data pods mount. Python's standard library
/// is all they need, so any image with python3 can run them.
public enum ModelTools {
    public static let configMapName = "fair-tools"
    public static let mountPath = "/opt/fair/tools"
    public static let files = ["fair-model.py", "fair-data.py"]
    /// Where training containers find the Python SDK (`import fair`: `fair.log_metric`, and a
    /// notebook that calls `fair.train()` running in its own training pod): the ConfigMap's
    /// `sdk-FILE` keys projected as `fair/FILE`, this directory put on PYTHONPATH.
    public static let sdkPath = "/opt/fair/sdk"
    static let sdkKeyPrefix = "sdk-"

    /// The SDK's keys and the paths they are projected to under `sdkPath`.
    public static var sdkItems: [(key: String, path: String)] {
        BuiltInSDK.files.keys.sorted().map { ("\(sdkKeyPrefix)\($0)", "fair/\($0)") }
    }

    /// The ConfigMap, for `namespace`.
    public static func configMap(namespace: String) -> JSONValue {
        var data: [String: JSONValue] = [:]
        for file in files {
            data[file] = .string(BuiltInTemplates.files[file] ?? "")
        }
        for (file, text) in BuiltInSDK.files {
            data["\(sdkKeyPrefix)\(file)"] = .string(text)
        }
        return [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(configMapName), "namespace": .string(namespace),
                "labels": ["app.kubernetes.io/managed-by": "fair"],
            ],
            "data": .object(data),
        ]
    }

    /// Creates the ConfigMap, or brings an existing one up to this fair's tools.
    public static func apply(with client: KubeClient, namespace: String) throws {
        let wanted = configMap(namespace: namespace)
        do {
            _ = try client.create(.configMaps, namespace: namespace, wanted)
        } catch let error as KubeError where error.code == 409 {
            let current = try client.get(.configMaps, namespace: namespace, name: configMapName)
            if current["data"] != wanted["data"] {
                _ = try client.mergePatch(.configMaps, namespace: namespace, name: configMapName, ["data": wanted["data"]!])
            }
        }
    }
}
