import Foundation

/// `metadata` of every object (meta/v1 ObjectMeta).
public struct ObjectMeta: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var generateName: String? { get { string("generateName") } set { set("generateName", newValue) } }
    public var namespace: String? { get { string("namespace") } set { set("namespace", newValue) } }
    public var uid: String? { get { string("uid") } set { set("uid", newValue) } }
    public var resourceVersion: String? { get { string("resourceVersion") } set { set("resourceVersion", newValue) } }
    public var generation: Int64? { get { int("generation") } set { set("generation", newValue) } }
    public var creationTimestamp: Date? { time("creationTimestamp") }
    /// Set once deletion was asked for; the object lives on until its finalizers are done.
    public var deletionTimestamp: Date? { time("deletionTimestamp") }
    public var isTerminating: Bool { json["deletionTimestamp"].map { !$0.isNull } ?? false }
    /// The grace period a graceful deletion gave the object (a pod's SIGTERM-to-SIGKILL time).
    public var deletionGracePeriodSeconds: Int64? { int("deletionGracePeriodSeconds") }
    public var labels: [String: String] { get { strings("labels") } set { set("labels", strings: newValue) } }
    public var annotations: [String: String] { get { strings("annotations") } set { set("annotations", strings: newValue) } }
    public var ownerReferences: [OwnerReference] { get { views("ownerReferences") } set { set("ownerReferences", views: newValue) } }
    public var finalizers: [String] { (json["finalizers"]?.arrayValue ?? []).compactMap(\.stringValue) }

    /// The owner that manages this object (`controller: true`), if any.
    public var controller: OwnerReference? { ownerReferences.first { $0.controller == true } }
}

/// One entry of `metadata.ownerReferences`.
public struct OwnerReference: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.init(json: .object([:]))
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    public var apiVersion: String? { get { string("apiVersion") } set { set("apiVersion", newValue) } }
    public var kind: String? { get { string("kind") } set { set("kind", newValue) } }
    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var uid: String? { get { string("uid") } set { set("uid", newValue) } }
    public var controller: Bool? { get { bool("controller") } set { set("controller", newValue) } }
    public var blockOwnerDeletion: Bool? { get { bool("blockOwnerDeletion") } set { set("blockOwnerDeletion", newValue) } }
}

/// The standard shape of a status condition (`status.conditions[]`).
public struct Condition: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var type: String? { get { string("type") } set { set("type", newValue) } }
    /// "True", "False" or "Unknown".
    public var status: String? { get { string("status") } set { set("status", newValue) } }
    public var reason: String? { get { string("reason") } set { set("reason", newValue) } }
    public var message: String? { get { string("message") } set { set("message", newValue) } }
    public var lastTransitionTime: Date? { get { time("lastTransitionTime") } set { set("lastTransitionTime", time: newValue) } }
    /// Nodes' conditions carry the agent's last report time.
    public var lastHeartbeatTime: Date? { get { time("lastHeartbeatTime") } set { set("lastHeartbeatTime", time: newValue) } }
    public var isTrue: Bool { status == "True" }

    /// Sets `lastTransitionTime` as the API conventions ask: it moves to `now` only when the
    /// status differs from `previous`; otherwise the old stamp stays, byte for byte as written.
    public mutating func stampTransition(since previous: Condition?, now: String) {
        let held = previous.map { $0.status == status } ?? false
        json["lastTransitionTime"] = held ? (previous?.json["lastTransitionTime"] ?? .string(now)) : .string(now)
    }
}

extension Array where Element == Condition {
    public subscript(type: String) -> Condition? { first { $0.type == type } }
}
