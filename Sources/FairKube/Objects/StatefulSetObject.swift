import Foundation

/// An apps/v1 StatefulSet.
public struct StatefulSet: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: StatefulSetSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: StatefulSetStatus { get { view("status") } set { set("status", view: newValue) } }
}

public struct StatefulSetSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// Absent means 1.
    public var replicas: Int64? { get { int("replicas") } set { set("replicas", newValue) } }
    public var minReadySeconds: Int64? { get { int("minReadySeconds") } set { set("minReadySeconds", newValue) } }
    public var selector: JSONValue? { json["selector"] }
    public var template: PodTemplateSpec { get { view("template") } set { set("template", view: newValue) } }
    /// The headless Service that gives the pods their DNS names; may be empty.
    public var serviceName: String? { get { string("serviceName") } set { set("serviceName", newValue) } }
    /// OrderedReady (the default) or Parallel.
    public var podManagementPolicy: String? { get { string("podManagementPolicy") } set { set("podManagementPolicy", newValue) } }
    /// The first ordinal (`spec.ordinals.start`); absent means 0.
    public var ordinalsStart: Int64? { json["ordinals"]?["start"]?.intValue }
    /// RollingUpdate (the default) or OnDelete.
    public var updateStrategyType: String? { json["updateStrategy"]?["type"]?.stringValue }
    /// Pods with an ordinal below this keep their revision in a rolling update.
    public var partition: Int64? { json["updateStrategy"]?["rollingUpdate"]?["partition"]?.intValue }
    /// Claims made for each pod, named `TEMPLATE-POD`.
    public var volumeClaimTemplates: [PersistentVolumeClaimTemplate] { views("volumeClaimTemplates") }
    /// Retain (the default) or Delete, for claims when the set is deleted and when it shrinks.
    public var claimsWhenDeleted: String? { json["persistentVolumeClaimRetentionPolicy"]?["whenDeleted"]?.stringValue }
    public var claimsWhenScaled: String? { json["persistentVolumeClaimRetentionPolicy"]?["whenScaled"]?.stringValue }
}

/// One entry of `volumeClaimTemplates`: a PersistentVolumeClaim without a namespace.
public struct PersistentVolumeClaimTemplate: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: JSONValue? { json["spec"] }
}

public struct StatefulSetStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var observedGeneration: Int64? { get { int("observedGeneration") } set { set("observedGeneration", newValue) } }
    public var replicas: Int64? { get { int("replicas") } set { set("replicas", newValue) } }
    public var readyReplicas: Int64? { get { int("readyReplicas") } set { set("readyReplicas", newValue) } }
    public var currentReplicas: Int64? { get { int("currentReplicas") } set { set("currentReplicas", newValue) } }
    public var updatedReplicas: Int64? { get { int("updatedReplicas") } set { set("updatedReplicas", newValue) } }
    public var availableReplicas: Int64? { get { int("availableReplicas") } set { set("availableReplicas", newValue) } }
    /// The revision of the pods below the partition, and the one a rolling update moves to.
    public var currentRevision: String? { get { string("currentRevision") } set { set("currentRevision", newValue) } }
    public var updateRevision: String? { get { string("updateRevision") } set { set("updateRevision", newValue) } }
    public var collisionCount: Int64? { get { int("collisionCount") } set { set("collisionCount", newValue) } }
}
