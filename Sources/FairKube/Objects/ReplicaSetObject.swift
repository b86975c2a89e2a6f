import Foundation

/// An apps/v1 ReplicaSet.
public struct ReplicaSet: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: ReplicaSetSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: ReplicaSetStatus { get { view("status") } set { set("status", view: newValue) } }
}

public struct ReplicaSetSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// Absent means 1.
    public var replicas: Int64? { get { int("replicas") } set { set("replicas", newValue) } }
    public var minReadySeconds: Int64? { get { int("minReadySeconds") } set { set("minReadySeconds", newValue) } }
    /// A label selector (matchLabels, matchExpressions), read with `LabelSelector(object:)`.
    public var selector: JSONValue? { json["selector"] }
    public var template: PodTemplateSpec { get { view("template") } set { set("template", view: newValue) } }
}

public struct ReplicaSetStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var replicas: Int64? { get { int("replicas") } set { set("replicas", newValue) } }
    public var fullyLabeledReplicas: Int64? { get { int("fullyLabeledReplicas") } set { set("fullyLabeledReplicas", newValue) } }
    public var readyReplicas: Int64? { get { int("readyReplicas") } set { set("readyReplicas", newValue) } }
    public var availableReplicas: Int64? { get { int("availableReplicas") } set { set("availableReplicas", newValue) } }
    public var observedGeneration: Int64? { get { int("observedGeneration") } set { set("observedGeneration", newValue) } }
    public var conditions: [Condition] { get { views("conditions") } set { set("conditions", views: newValue) } }
}
