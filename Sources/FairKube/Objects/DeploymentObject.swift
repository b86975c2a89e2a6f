import Foundation

/// An apps/v1 Deployment.
public struct Deployment: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: DeploymentSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: DeploymentStatus { get { view("status") } set { set("status", view: newValue) } }
}

/// `spec` of a Deployment, as stored (the controller resolves Kubernetes' defaults where it reads it).
public struct DeploymentSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var replicas: Int64? { get { int("replicas") } set { set("replicas", newValue) } }
    public var minReadySeconds: Int64? { get { int("minReadySeconds") } set { set("minReadySeconds", newValue) } }
    public var revisionHistoryLimit: Int64? { get { int("revisionHistoryLimit") } set { set("revisionHistoryLimit", newValue) } }
    public var progressDeadlineSeconds: Int64? { get { int("progressDeadlineSeconds") } set { set("progressDeadlineSeconds", newValue) } }
    public var paused: Bool? { get { bool("paused") } set { set("paused", newValue) } }
    public var selector: JSONValue? { json["selector"] }
    public var strategy: DeploymentStrategy { get { view("strategy") } set { set("strategy", view: newValue) } }
    public var template: PodTemplateSpec { get { view("template") } set { set("template", view: newValue) } }
}

public struct DeploymentStrategy: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// RollingUpdate (the default) or Recreate.
    public var type: String? { get { string("type") } set { set("type", newValue) } }
    /// An int or a percentage, as written.
    public var maxSurge: JSONValue? { json["rollingUpdate"]?["maxSurge"] }
    public var maxUnavailable: JSONValue? { json["rollingUpdate"]?["maxUnavailable"] }
}

public struct DeploymentStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var observedGeneration: Int64? { get { int("observedGeneration") } set { set("observedGeneration", newValue) } }
    public var replicas: Int64? { get { int("replicas") } set { set("replicas", newValue) } }
    public var updatedReplicas: Int64? { get { int("updatedReplicas") } set { set("updatedReplicas", newValue) } }
    public var readyReplicas: Int64? { get { int("readyReplicas") } set { set("readyReplicas", newValue) } }
    public var availableReplicas: Int64? { get { int("availableReplicas") } set { set("availableReplicas", newValue) } }
    public var unavailableReplicas: Int64? { get { int("unavailableReplicas") } set { set("unavailableReplicas", newValue) } }
    /// Bumped when a new ReplicaSet's name collided with one of another template.
    public var collisionCount: Int64? { get { int("collisionCount") } set { set("collisionCount", newValue) } }
    public var conditions: [Condition] { get { views("conditions") } set { set("conditions", views: newValue) } }
}
