import Foundation

/// One of a pod's `spec.volumes`: a name and one source.
public struct Volume: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var emptyDir: JSONValue? { json["emptyDir"] }
    public var hostPath: HostPathVolumeSource? { json["hostPath"].map { HostPathVolumeSource(json: $0) } }
    public var configMap: ConfigMapVolumeSource? { json["configMap"].map { ConfigMapVolumeSource(json: $0) } }
    public var secret: SecretVolumeSource? { json["secret"].map { SecretVolumeSource(json: $0) } }
    /// The name of the source field (`emptyDir`, `nfs`, …), for messages about one not served.
    public var sourceKind: String { json.objectValue?.keys.sorted().first { $0 != "name" } ?? "unknown" }
}

public struct HostPathVolumeSource: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var path: String? { get { string("path") } set { set("path", newValue) } }
    /// "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.
    public var type: String? { get { string("type") } set { set("type", newValue) } }
}

public struct ConfigMapVolumeSource: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    /// Only these keys, at these paths; nil: every key at its own name.
    public var items: [KeyToPath]? { json["items"]?.arrayValue.map { $0.map { KeyToPath(json: $0) } } }
    public var defaultMode: Int64? { get { int("defaultMode") } set { set("defaultMode", newValue) } }
    public var optional: Bool? { get { bool("optional") } set { set("optional", newValue) } }
}

/// A Secret's keys as files. Unlike the others, the Secret is named by `secretName`.
public struct SecretVolumeSource: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var secretName: String? { get { string("secretName") } set { set("secretName", newValue) } }
    public var items: [KeyToPath]? { json["items"]?.arrayValue.map { $0.map { KeyToPath(json: $0) } } }
    public var defaultMode: Int64? { get { int("defaultMode") } set { set("defaultMode", newValue) } }
    public var optional: Bool? { get { bool("optional") } set { set("optional", newValue) } }
}

/// One projected key: where it goes inside the volume, and its file mode.
public struct KeyToPath: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var key: String? { get { string("key") } set { set("key", newValue) } }
    public var path: String? { get { string("path") } set { set("path", newValue) } }
    public var mode: Int64? { get { int("mode") } set { set("mode", newValue) } }
}

/// A container's `volumeMounts[]` entry.
public struct VolumeMount: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var mountPath: String? { get { string("mountPath") } set { set("mountPath", newValue) } }
    public var subPath: String? { get { string("subPath") } set { set("subPath", newValue) } }
    public var readOnly: Bool? { get { bool("readOnly") } set { set("readOnly", newValue) } }
}
