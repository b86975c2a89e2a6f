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
    /// The event as one line of a JSON watch stream, encoded by the first watcher that sends it
    /// and shared by the rest: a pod change reaches the scheduler, the controllers, its node and
    /// any client, and encoding it once per watcher dominated the fan-out.
    let encoded = EncodedLine()

    public init(kind: Kind, revision: Int64, resource: String, namespace: String, object: JSONValue) {
        self.kind = kind
        self.revision = revision
        self.resource = resource
        self.namespace = namespace
        self.object = object
    }

    /// `{"object":…,"type":"…"}` and a newline.
    var line: [UInt8] {
        encoded.value {
            var bytes = JSONCoding.encodeBytes(["type": .string(kind.rawValue), "object": object])
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        }
    }
}

/// Bytes computed at most once, from whichever thread asks first.
final class EncodedLine: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8]?

    func value(_ make: () -> [UInt8]) -> [UInt8] {
        lock.lock(); defer { lock.unlock() }
        if let bytes { return bytes }
        let made = make()
        bytes = made
        return made
    }
}
