import Foundation

/// A pod's `spec.securityContext`: defaults for its containers, and the groups they share.
public struct PodSecurityContext: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// Ids as written, so a reader can name a value of the wrong type.
    public var runAsUser: JSONValue? { json["runAsUser"] }
    public var runAsGroup: JSONValue? { json["runAsGroup"] }
    public var fsGroup: JSONValue? { json["fsGroup"] }
    public var supplementalGroups: [JSONValue] { json["supplementalGroups"]?.arrayValue ?? [] }
    public var runAsNonRoot: Bool? { get { bool("runAsNonRoot") } set { set("runAsNonRoot", newValue) } }
    /// RuntimeDefault, Unconfined or Localhost.
    public var seccompProfileType: String? { json["seccompProfile"]?["type"]?.stringValue }
}

/// A container's `securityContext`; its fields win over the pod's.
public struct SecurityContext: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var runAsUser: JSONValue? { json["runAsUser"] }
    public var runAsGroup: JSONValue? { json["runAsGroup"] }
    public var runAsNonRoot: Bool? { get { bool("runAsNonRoot") } set { set("runAsNonRoot", newValue) } }
    /// Capability names as written (`NET_ADMIN`, `CAP_SYS_TIME`, `ALL`).
    public var addedCapabilities: JSONValue? { json["capabilities"]?["add"] }
    public var droppedCapabilities: JSONValue? { json["capabilities"]?["drop"] }
    public var allowPrivilegeEscalation: Bool? { get { bool("allowPrivilegeEscalation") } set { set("allowPrivilegeEscalation", newValue) } }
    public var readOnlyRootFilesystem: Bool? { get { bool("readOnlyRootFilesystem") } set { set("readOnlyRootFilesystem", newValue) } }
    public var privileged: Bool? { get { bool("privileged") } set { set("privileged", newValue) } }
    public var seccompProfileType: String? { json["seccompProfile"]?["type"]?.stringValue }
}
