import FairKube
import Foundation

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
    /// `object` as JSON, encoded once by the store for its record and shared by every watcher
    /// that sends it as it is; nil where no one has encoded it yet (the ADDED events of a new
    /// watch's current objects).
    public var encoded: Data?

    public init(kind: Kind, revision: Int64, resource: String, namespace: String, object: JSONValue, encoded: Data? = nil) {
        self.kind = kind
        self.revision = revision
        self.resource = resource
        self.namespace = namespace
        self.object = object
        self.encoded = encoded
    }

    /// The object's JSON: the store's encoding where it has one.
    public var objectJSON: Data { encoded ?? JSONCoding.encode(object) }
}
