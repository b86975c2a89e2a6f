import Foundation

/// An apps/v1 DaemonSet.
public struct DaemonSet: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: DaemonSetSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: DaemonSetStatus { get { view("status") } set { set("status", view: newValue) } }
}

public struct DaemonSetSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var minReadySeconds: Int64? { get { int("minReadySeconds") } set { set("minReadySeconds", newValue) } }
    public var selector: JSONValue? { json["selector"] }
    public var template: PodTemplateSpec { get { view("template") } set { set("template", view: newValue) } }
    /// RollingUpdate (the default) or OnDelete.
    public var updateStrategyType: String? { json["updateStrategy"]?["type"]?.stringValue }
    /// An int or a percentage of the nodes, as written.
    public var maxUnavailable: JSONValue? { json["updateStrategy"]?["rollingUpdate"]?["maxUnavailable"] }
    public var maxSurge: JSONValue? { json["updateStrategy"]?["rollingUpdate"]?["maxSurge"] }
}

public struct DaemonSetStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var observedGeneration: Int64? { get { int("observedGeneration") } set { set("observedGeneration", newValue) } }
    /// Nodes that should run the pod.
    public var desiredNumberScheduled: Int64? { get { int("desiredNumberScheduled") } set { set("desiredNumberScheduled", newValue) } }
    /// Nodes that should run it and do.
    public var currentNumberScheduled: Int64? { get { int("currentNumberScheduled") } set { set("currentNumberScheduled", newValue) } }
    /// Nodes that run it but should not.
    public var numberMisscheduled: Int64? { get { int("numberMisscheduled") } set { set("numberMisscheduled", newValue) } }
    public var numberReady: Int64? { get { int("numberReady") } set { set("numberReady", newValue) } }
    public var numberAvailable: Int64? { get { int("numberAvailable") } set { set("numberAvailable", newValue) } }
    public var numberUnavailable: Int64? { get { int("numberUnavailable") } set { set("numberUnavailable", newValue) } }
    public var updatedNumberScheduled: Int64? { get { int("updatedNumberScheduled") } set { set("updatedNumberScheduled", newValue) } }
    public var collisionCount: Int64? { get { int("collisionCount") } set { set("collisionCount", newValue) } }
}
