import Foundation

/// A batch/v1 Job.
public struct Job: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: JobSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: JobStatus { get { view("status") } set { set("status", view: newValue) } }
}

/// `spec` of a Job, as stored (the controller applies Kubernetes' defaults where it reads it).
public struct JobSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var parallelism: Int64? { get { int("parallelism") } set { set("parallelism", newValue) } }
    /// Absent means 1; null means a work queue (any success ends the Job).
    public var completions: JSONValue? { json["completions"] }
    public var backoffLimit: Int64? { get { int("backoffLimit") } set { set("backoffLimit", newValue) } }
    public var backoffLimitPerIndex: Int64? { get { int("backoffLimitPerIndex") } set { set("backoffLimitPerIndex", newValue) } }
    /// `backoffLimit`, or kube's default when unset: 6, and off (MaxInt32) when each index has
    /// a limit of its own.
    public var backoffLimitOrDefault: Int64 { backoffLimit ?? (backoffLimitPerIndex == nil ? 6 : Int64(Int32.max)) }
    public var activeDeadlineSeconds: Int64? { get { int("activeDeadlineSeconds") } set { set("activeDeadlineSeconds", newValue) } }
    public var ttlSecondsAfterFinished: Int64? { get { int("ttlSecondsAfterFinished") } set { set("ttlSecondsAfterFinished", newValue) } }
    public var suspend: Bool? { get { bool("suspend") } set { set("suspend", newValue) } }
    public var template: PodTemplateSpec { get { view("template") } set { set("template", view: newValue) } }
}

/// A pod template: the metadata and spec of the pods a controller makes.
public struct PodTemplateSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: PodSpec { get { view("spec") } set { set("spec", view: newValue) } }
}

/// `status` of a Job.
public struct JobStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var active: Int64? { get { int("active") } set { set("active", newValue) } }
    public var succeeded: Int64? { get { int("succeeded") } set { set("succeeded", newValue) } }
    public var failed: Int64? { get { int("failed") } set { set("failed", newValue) } }
    public var ready: Int64? { get { int("ready") } set { set("ready", newValue) } }
    public var startTime: Date? { get { time("startTime") } set { set("startTime", time: newValue) } }
    public var completionTime: Date? { get { time("completionTime") } set { set("completionTime", time: newValue) } }
    public var conditions: [Condition] { get { views("conditions") } set { set("conditions", views: newValue) } }
}
