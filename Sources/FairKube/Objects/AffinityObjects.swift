import Foundation

/// `spec.affinity.nodeAffinity`: where a pod may (required) or would rather (preferred) go.
public struct NodeAffinityTerms: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; nil when nothing is
    /// required (an empty list means no node fits).
    public var requiredTerms: [NodeSelectorTermView]? {
        json["requiredDuringSchedulingIgnoredDuringExecution"].map { required in
            (required["nodeSelectorTerms"]?.arrayValue ?? []).map { NodeSelectorTermView(json: $0) }
        }
    }
}

/// One node selector term: all its requirements must hold.
public struct NodeSelectorTermView: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var matchExpressions: [NodeSelectorRequirement] { views("matchExpressions") }
    public var matchFields: [NodeSelectorRequirement] { views("matchFields") }
}

/// `key operator values`: In, NotIn, Exists, DoesNotExist, Gt or Lt.
public struct NodeSelectorRequirement: JSONView {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var key: String? { get { string("key") } set { set("key", newValue) } }
    public var `operator`: String? { get { string("operator") } set { set("operator", newValue) } }
    public var values: [String] { get { list("values") ?? [] } set { set("values", list: newValue) } }
}
