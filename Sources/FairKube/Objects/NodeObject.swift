import Foundation

/// A core/v1 Node.
public struct Node: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: NodeSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: NodeStatus { get { view("status") } set { set("status", view: newValue) } }
}

public struct NodeSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// The addresses this node hands its pods.
    public var podCIDR: String? { get { string("podCIDR") } set { set("podCIDR", newValue) } }
    public var podCIDRs: [String]? { get { list("podCIDRs") } set { set("podCIDRs", list: newValue) } }
    /// Cordoned: no new pods.
    public var unschedulable: Bool? { get { bool("unschedulable") } set { set("unschedulable", newValue) } }
    public var taints: [Taint] { get { views("taints") } set { set("taints", views: newValue) } }
}

/// A node's taint: pods that do not tolerate it are kept off (or evicted from) the node.
public struct Taint: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var key: String? { get { string("key") } set { set("key", newValue) } }
    public var value: String? { get { string("value") } set { set("value", newValue) } }
    /// NoSchedule, PreferNoSchedule or NoExecute.
    public var effect: String? { get { string("effect") } set { set("effect", newValue) } }
    /// When the node lifecycle controller added it (NoExecute taints count eviction from it).
    public var timeAdded: Date? { get { time("timeAdded") } set { set("timeAdded", time: newValue) } }
}

public struct NodeStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// What pods may request in all, a resource list by name.
    public var allocatable: JSONValue? { json["allocatable"] }
    public var capacity: JSONValue? { json["capacity"] }
    public var conditions: [Condition] { get { views("conditions") } set { set("conditions", views: newValue) } }
}
