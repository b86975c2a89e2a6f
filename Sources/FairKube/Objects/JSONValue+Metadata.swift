/// Reading the parts of an API object every component needs, without modelling the rest.
extension JSONValue {
    public var apiVersion: String? { self["apiVersion"]?.stringValue }
    public var kind: String? { self["kind"]?.stringValue }
    public var name: String? { value(at: "metadata.name")?.stringValue }
    public var namespace: String? { value(at: "metadata.namespace")?.stringValue }
    public var uid: String? { value(at: "metadata.uid")?.stringValue }
    public var resourceVersion: String? { value(at: "metadata.resourceVersion")?.stringValue }

    public var labels: [String: String] {
        (value(at: "metadata.labels")?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    public var ownerReferences: [JSONValue] { value(at: "metadata.ownerReferences")?.arrayValue ?? [] }
}
