import Foundation

/// One `env` entry of a container.
public struct EnvVar: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    /// May hold `$(VAR)` references to variables defined before it.
    public var value: String? { get { string("value") } set { set("value", newValue) } }
    /// Where the value comes from instead; nil when `value` is given.
    public var valueFrom: EnvVarSource? { json["valueFrom"]?.objectValue == nil ? nil : view("valueFrom") }
}

/// `env[].valueFrom`: exactly one of its references is set.
public struct EnvVarSource: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// A field of the pod (`metadata.name`, `status.podIP`, …), through `fieldRef.fieldPath`.
    public var fieldPath: String? { json["fieldRef"]?["fieldPath"]?.stringValue }
    public var resourceFieldRef: ResourceFieldSelector? { json["resourceFieldRef"].map { ResourceFieldSelector(json: $0) } }
    public var configMapKeyRef: KeySelector? { json["configMapKeyRef"].map { KeySelector(json: $0) } }
    public var secretKeyRef: KeySelector? { json["secretKeyRef"].map { KeySelector(json: $0) } }
}

/// A container's resource named for the downward API (`limits.cpu`, `requests.memory`, …).
public struct ResourceFieldSelector: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// Another container of the pod; nil: the one being set up.
    public var containerName: String? { get { string("containerName") } set { set("containerName", newValue) } }
    public var resource: String? { get { string("resource") } set { set("resource", newValue) } }
    /// A quantity the value is divided by (rounded up); absent means 1.
    public var divisor: JSONValue? { json["divisor"] }
}

/// A key of a ConfigMap or Secret (`configMapKeyRef`, `secretKeyRef`).
public struct KeySelector: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var key: String? { get { string("key") } set { set("key", newValue) } }
    /// A missing object or key leaves the variable out instead of failing the container.
    public var optional: Bool? { get { bool("optional") } set { set("optional", newValue) } }
}

/// One `envFrom` entry: every key of a ConfigMap or Secret, each with the prefix.
public struct EnvFromSource: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var prefix: String? { get { string("prefix") } set { set("prefix", newValue) } }
    public var configMapRef: KeySelector? { json["configMapRef"].map { KeySelector(json: $0) } }
    public var secretRef: KeySelector? { json["secretRef"].map { KeySelector(json: $0) } }
}
