import Foundation

/// A core/v1 Service.
public struct Service: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: ServiceSpec { get { view("spec") } set { set("spec", view: newValue) } }
}

public struct ServiceSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// The labels of the pods it routes to; empty: its Endpoints are written by hand.
    public var selector: [String: String] { get { strings("selector") } set { set("selector", strings: newValue) } }
    public var ports: [ServicePort] { get { views("ports") } set { set("ports", views: newValue) } }
    /// "None" for a headless Service.
    public var clusterIP: String? { get { string("clusterIP") } set { set("clusterIP", newValue) } }
    public var type: String? { get { string("type") } set { set("type", newValue) } }
    public var publishNotReadyAddresses: Bool? { get { bool("publishNotReadyAddresses") } set { set("publishNotReadyAddresses", newValue) } }
}

public struct ServicePort: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var port: Int64? { get { int("port") } set { set("port", newValue) } }
    /// A number or the name of a container port; absent means `port`.
    public var targetPort: JSONValue? { json["targetPort"] }
    /// TCP (the default), UDP or SCTP.
    public var `protocol`: String? { get { string("protocol") } set { set("protocol", newValue) } }
    public var appProtocol: String? { get { string("appProtocol") } set { set("appProtocol", newValue) } }
}

/// A port a container declares (`spec.containers[].ports[]`).
public struct ContainerPort: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var containerPort: Int64? { get { int("containerPort") } set { set("containerPort", newValue) } }
    public var `protocol`: String? { get { string("protocol") } set { set("protocol", newValue) } }
}

/// A core/v1 ConfigMap.
public struct ConfigMap: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var data: [String: String] { get { strings("data") } set { set("data", strings: newValue) } }

    /// `data` and `binaryData` together, as a volume or env sees them.
    public var contents: [String: [UInt8]] {
        var contents: [String: [UInt8]] = [:]
        for (key, value) in data { contents[key] = Array(value.utf8) }
        for (key, value) in json["binaryData"]?.objectValue ?? [:] {
            if let bytes = value.stringValue.flatMap(SecretData.decode) { contents[key] = bytes }
        }
        return contents
    }
}
