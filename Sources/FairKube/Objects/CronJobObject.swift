import Foundation

/// A batch/v1 CronJob.
public struct CronJob: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: CronJobSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: CronJobStatus { get { view("status") } set { set("status", view: newValue) } }
}

/// `spec` of a CronJob, as stored (the API server has applied Kubernetes' defaults).
public struct CronJobSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var schedule: String? { get { string("schedule") } set { set("schedule", newValue) } }
    /// An IANA zone name; absent: the controller manager's own zone.
    public var timeZone: String? { get { string("timeZone") } set { set("timeZone", newValue) } }
    public var startingDeadlineSeconds: Int64? { get { int("startingDeadlineSeconds") } set { set("startingDeadlineSeconds", newValue) } }
    /// Allow, Forbid or Replace.
    public var concurrencyPolicy: String? { get { string("concurrencyPolicy") } set { set("concurrencyPolicy", newValue) } }
    public var suspend: Bool? { get { bool("suspend") } set { set("suspend", newValue) } }
    public var successfulJobsHistoryLimit: Int64? {
        get { int("successfulJobsHistoryLimit") } set { set("successfulJobsHistoryLimit", newValue) }
    }
    public var failedJobsHistoryLimit: Int64? { get { int("failedJobsHistoryLimit") } set { set("failedJobsHistoryLimit", newValue) } }
    public var jobTemplate: JobTemplateSpec { get { view("jobTemplate") } set { set("jobTemplate", view: newValue) } }
}

/// The metadata and spec of the Jobs a CronJob makes.
public struct JobTemplateSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: JobSpec { get { view("spec") } set { set("spec", view: newValue) } }
}

/// `status` of a CronJob.
public struct CronJobStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// The Jobs it started that have not finished.
    public var active: [ObjectReference] { get { views("active") } set { set("active", views: newValue) } }
    public var lastScheduleTime: Date? { get { time("lastScheduleTime") } set { set("lastScheduleTime", time: newValue) } }
    public var lastSuccessfulTime: Date? { get { time("lastSuccessfulTime") } set { set("lastSuccessfulTime", time: newValue) } }
}

/// A core/v1 ObjectReference: what `status.active` of a CronJob lists.
public struct ObjectReference: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// The reference client-go's `GetReference` makes for `object`.
    public init(to object: JSONValue) {
        self.init(json: .object([:]))
        apiVersion = object["apiVersion"]?.stringValue
        kind = object["kind"]?.stringValue
        namespace = object.namespace
        name = object.name
        uid = object.uid
        resourceVersion = object.resourceVersion
    }

    public var apiVersion: String? { get { string("apiVersion") } set { set("apiVersion", newValue) } }
    public var kind: String? { get { string("kind") } set { set("kind", newValue) } }
    public var namespace: String? { get { string("namespace") } set { set("namespace", newValue) } }
    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var uid: String? { get { string("uid") } set { set("uid", newValue) } }
    public var resourceVersion: String? { get { string("resourceVersion") } set { set("resourceVersion", newValue) } }
}
