import Foundation

/// A container's readiness, liveness or startup probe.
public struct Probe: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var initialDelaySeconds: Int64? { get { int("initialDelaySeconds") } set { set("initialDelaySeconds", newValue) } }
    public var periodSeconds: Int64? { get { int("periodSeconds") } set { set("periodSeconds", newValue) } }
    public var timeoutSeconds: Int64? { get { int("timeoutSeconds") } set { set("timeoutSeconds", newValue) } }
    public var successThreshold: Int64? { get { int("successThreshold") } set { set("successThreshold", newValue) } }
    public var failureThreshold: Int64? { get { int("failureThreshold") } set { set("failureThreshold", newValue) } }
    /// A liveness probe's own grace period, overriding the pod's.
    public var terminationGracePeriodSeconds: Int64? {
        get { int("terminationGracePeriodSeconds") } set { set("terminationGracePeriodSeconds", newValue) }
    }
    public var httpGet: HTTPGetAction? { json["httpGet"].map { HTTPGetAction(json: $0) } }
    public var tcpSocket: TCPSocketAction? { json["tcpSocket"].map { TCPSocketAction(json: $0) } }
    /// `exec.command`; nil when the probe does not exec.
    public var execCommand: [String]? { json["exec"].map { ($0["command"]?.arrayValue ?? []).compactMap(\.stringValue) } }
}

public struct HTTPGetAction: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var host: String? { get { string("host") } set { set("host", newValue) } }
    /// A number or the name of a container port.
    public var port: JSONValue? { json["port"] }
    public var path: String? { get { string("path") } set { set("path", newValue) } }
    /// HTTP (the default) or HTTPS.
    public var scheme: String? { get { string("scheme") } set { set("scheme", newValue) } }
    public var httpHeaders: [(name: String, value: String)] {
        (json["httpHeaders"]?.arrayValue ?? []).compactMap { header in
            header["name"]?.stringValue.map { ($0, header["value"]?.stringValue ?? "") }
        }
    }
}

public struct TCPSocketAction: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var host: String? { get { string("host") } set { set("host", newValue) } }
    public var port: JSONValue? { json["port"] }
}
