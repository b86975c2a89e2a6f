import FairKube

/// A change to one object, as watchers receive it.
public struct WatchEvent: Sendable {
    public enum Kind: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK"
    }

    public var kind: Kind
    public var revision: Int64
    public var resource: String
    public var namespace: String
    public var object: JSONValue
}
