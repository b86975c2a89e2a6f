import Foundation

/// A core/v1 Pod.
public struct Pod: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var metadata: ObjectMeta { get { view("metadata") } set { set("metadata", view: newValue) } }
    public var spec: PodSpec { get { view("spec") } set { set("spec", view: newValue) } }
    public var status: PodStatus { get { view("status") } set { set("status", view: newValue) } }
}

/// `spec` of a Pod, and of a pod template.
public struct PodSpec: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// The node it is bound to; empty or absent until the scheduler binds it.
    public var nodeName: String? { get { string("nodeName").flatMap { $0.isEmpty ? nil : $0 } } set { set("nodeName", newValue) } }
    public var schedulerName: String? { get { string("schedulerName") } set { set("schedulerName", newValue) } }
    public var restartPolicy: String? { get { string("restartPolicy") } set { set("restartPolicy", newValue) } }
    public var serviceAccountName: String? { get { string("serviceAccountName") } set { set("serviceAccountName", newValue) } }
    /// Secrets (of type dockerconfigjson or dockercfg) the node pulls this pod's images with.
    public var imagePullSecretNames: [String] { (json["imagePullSecrets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } }
    /// The pod's hostname; absent means the pod's name.
    public var hostname: String? { get { string("hostname") } set { set("hostname", newValue) } }
    /// Seconds between SIGTERM and SIGKILL when the pod is deleted; absent means 30.
    public var terminationGracePeriodSeconds: Int64? {
        get { int("terminationGracePeriodSeconds") } set { set("terminationGracePeriodSeconds", newValue) }
    }
    public var containers: [Container] { get { views("containers") } set { set("containers", views: newValue) } }
    public var initContainers: [Container] { get { views("initContainers") } set { set("initContainers", views: newValue) } }
    public var nodeSelector: [String: String] { get { strings("nodeSelector") } set { set("nodeSelector", strings: newValue) } }
    public var tolerations: [Toleration] { get { views("tolerations") } set { set("tolerations", views: newValue) } }
    public var volumes: [Volume] { get { views("volumes") } set { set("volumes", views: newValue) } }
    public var securityContext: PodSecurityContext { get { view("securityContext") } set { set("securityContext", view: newValue) } }
    /// Scheduling constraints beyond the node selector, read by the scheduler's node affinity.
    public var affinity: JSONValue? { json["affinity"] }
    public var nodeAffinity: NodeAffinityTerms? { json["affinity"]?["nodeAffinity"].map { NodeAffinityTerms(json: $0) } }
    /// Resources the pod takes on top of its containers' (`spec.overhead`, a resource list).
    public var overhead: JSONValue? { json["overhead"] }
}

/// A container of a pod spec.
public struct Container: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var name: String? { get { string("name") } set { set("name", newValue) } }
    public var image: String? { get { string("image") } set { set("image", newValue) } }
    /// The entrypoint; nil: the image's. `$(VAR)` references are expanded by the node.
    public var command: [String]? { get { list("command") } set { set("command", list: newValue) } }
    public var args: [String]? { get { list("args") } set { set("args", list: newValue) } }
    public var workingDir: String? { get { string("workingDir") } set { set("workingDir", newValue) } }
    public var env: [EnvVar] { get { views("env") } set { set("env", views: newValue) } }
    public var volumeMounts: [VolumeMount] { get { views("volumeMounts") } set { set("volumeMounts", views: newValue) } }
    public var securityContext: SecurityContext { get { view("securityContext") } set { set("securityContext", view: newValue) } }
    public var readinessProbe: Probe? { json["readinessProbe"]?.objectValue == nil ? nil : view("readinessProbe") }
    public var livenessProbe: Probe? { json["livenessProbe"]?.objectValue == nil ? nil : view("livenessProbe") }
    public var envFrom: [EnvFromSource] { get { views("envFrom") } set { set("envFrom", views: newValue) } }
    /// Always, IfNotPresent or Never.
    public var imagePullPolicy: String? { get { string("imagePullPolicy") } set { set("imagePullPolicy", newValue) } }
    public var resources: ResourceRequirements { get { view("resources") } set { set("resources", view: newValue) } }
    public var ports: [ContainerPort] { get { views("ports") } set { set("ports", views: newValue) } }
}

/// A container's `resources`: resource lists by name (`cpu: 500m`), kept as the JSON they came in.
public struct ResourceRequirements: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var requests: [String: JSONValue] { json["requests"]?.objectValue ?? [:] }
    public var limits: [String: JSONValue] { json["limits"]?.objectValue ?? [:] }
}

/// A pod's toleration of node taints.
public struct Toleration: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var key: String? { get { string("key") } set { set("key", newValue) } }
    /// "Equal" (the default) or "Exists".
    public var `operator`: String? { get { string("operator") } set { set("operator", newValue) } }
    public var value: String? { get { string("value") } set { set("value", newValue) } }
    public var effect: String? { get { string("effect") } set { set("effect", newValue) } }
}

/// `status` of a Pod.
public struct PodStatus: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// Pending, Running, Succeeded, Failed or Unknown.
    public var phase: String? { get { string("phase") } set { set("phase", newValue) } }
    public var podIP: String? { get { string("podIP") } set { set("podIP", newValue) } }
    /// When the node agent accepted the pod, as written (whole seconds).
    public var startTime: Date? { get { time("startTime") } set { set("startTime", time: newValue) } }
    public var conditions: [Condition] { get { views("conditions") } set { set("conditions", views: newValue) } }
    /// Succeeded or Failed: the pod holds nothing on its node any more.
    public var hasFinished: Bool { phase == "Succeeded" || phase == "Failed" }
}
