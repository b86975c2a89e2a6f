/// Shortcuts to the metadata every component reads, through the `ObjectMeta` view.
extension JSONValue {
    public var apiVersion: String? { self["apiVersion"]?.stringValue }
    public var kind: String? { self["kind"]?.stringValue }
    /// Any object's `metadata`, typed.
    public var metadata: ObjectMeta { ObjectMeta(json: self["metadata"] ?? .object([:])) }
    public var name: String? { metadata.name }
    public var namespace: String? { metadata.namespace }
    public var uid: String? { metadata.uid }
    public var resourceVersion: String? { metadata.resourceVersion }
    public var labels: [String: String] { metadata.labels }
    /// The raw entries, for code that copies them whole; `metadata.ownerReferences` reads them typed.
    public var ownerReferences: [JSONValue] { metadata.json["ownerReferences"]?.arrayValue ?? [] }
}
