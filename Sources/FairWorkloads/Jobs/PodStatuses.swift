import FairKube

extension JSONValue {
    /// A pod's container statuses, init containers first: the order they run in.
    public var allContainerStatuses: [JSONValue] {
        (value(at: "status.initContainerStatuses")?.arrayValue ?? []) + (value(at: "status.containerStatuses")?.arrayValue ?? [])
    }
}
