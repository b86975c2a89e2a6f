import FairKube
import Foundation
import GRDB

/// The API server's store. SQLite (WAL) is the record: a write is committed before it is
/// acknowledged, so a `kill -9` never loses an object a client was told about. Reads come from an
/// in-memory copy, and watches from an in-memory window of recent events, so thousands of
/// watchers cost a fan-out, not a query each.
public final class ObjectStore: @unchecked Sendable {
    public struct Stored: Sendable {
        public var revision: Int64
        public var object: JSONValue
    }

    private let database: DatabaseQueue
    private let lock = NSLock()
    private var objects: [String: [String: Stored]] = [:]  // resource → "namespace/name" → object
    /// Field indexes, built on first use and kept with every write: resource → field path → index.
    private var fieldIndexes: [String: [String: FieldIndex]] = [:]

    private struct FieldIndex {
        /// The path split once, for every write of the resource.
        var keys: [String]
        /// Field value → "namespace/name" keys.
        var entries: [String: Set<String>] = [:]

        func value(of object: JSONValue?) -> String? { object?.value(at: keys)?.stringValue }
    }
    private var revision: Int64 = 0
    private var window: [WatchEvent] = []
    /// The window is bounded twice: by events, and by the bytes their objects take encoded, so
    /// a few updates of a large object cannot hold hundreds of MiB after it is gone.
    private var windowSizes: [Int] = []
    private var windowBytes = 0
    private let windowCapacity: Int
    private let windowByteCapacity: Int
    /// The largest object (encoded) the store accepts: etcd's default request limit.
    public let maximumObjectSize: Int
    /// Watchers have a lock of their own, never held while yielding: a watch ending (its
    /// `onTermination`) must not wait for the store, which may be yielding to that very stream.
    private var watchers: [UUID: Watcher] = [:]
    private let watchersLock = NSLock()

    /// What a watch is sent: its resource, its namespace (or all), and what its filter accepts.
    private struct WatchSelection {
        var resource: String
        var namespace: String?
        var matches: WatchFilter?

        func wants(_ event: WatchEvent) -> Bool {
            resource == event.resource && (namespace == nil || namespace == event.namespace) && (matches?(event) ?? true)
        }
    }

    private struct Watcher {
        var selection: WatchSelection
        var continuation: AsyncStream<WatchEvent>.Continuation
    }

    /// Which of a resource's events a watcher is sent (its label and field selectors). It runs
    /// as each event is published, under the store's lock, so it must be quick and must not
    /// call the store. Filtering here rather than in each watch's task is what lets a hundred
    /// node agents watch pods by `spec.nodeName`: each event wakes the one watcher it is for,
    /// as kube-apiserver's watch cache filters before it dispatches.
    public typealias WatchFilter = @Sendable (WatchEvent) -> Bool

    public init(path: String, windowCapacity: Int = 50_000, windowByteCapacity: Int = 64 << 20,
                maximumObjectSize: Int = 3 << 19) throws {
        self.windowCapacity = windowCapacity
        self.windowByteCapacity = windowByteCapacity
        self.maximumObjectSize = maximumObjectSize
        // Objects include Secrets: the database and its WAL (which SQLite creates with the
        // database file's mode) are for the server's user alone.
        try Self.createPrivately(path)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // NORMAL is durable against a killed process (the WAL is in the OS's hands at commit);
            // only a power loss could cost the last transactions.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        database = try DatabaseQueue(path: path, configuration: configuration)
        try database.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS objects (
                    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                    revision INTEGER NOT NULL, body BLOB NOT NULL,
                    PRIMARY KEY (resource, namespace, name));
                CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """)
        }
        try database.read { db in
            revision = try Int64.fetchOne(db, sql: "SELECT value FROM state WHERE key = 'revision'") ?? 0
            for row in try Row.fetchAll(db, sql: "SELECT resource, namespace, name, revision, body FROM objects") {
                let body: Data = row["body"]
                let object = try JSONCoding.decode(body)
                let resource: String = row["resource"], namespace: String = row["namespace"], name: String = row["name"]
                objects[resource, default: [:]]["\(namespace)/\(name)"] = Stored(revision: row["revision"], object: object)
            }
        }
    }

    public var currentRevision: Int64 {
        lock.lock(); defer { lock.unlock() }
        return revision
    }

    public func get(_ resource: String, namespace: String, name: String) -> Stored? {
        lock.lock(); defer { lock.unlock() }
        return objects[resource]?["\(namespace)/\(name)"]
    }

    /// Objects of a resource (in one namespace, or all), sorted by namespace and name, and the
    /// revision the list is consistent with.
    public func list(_ resource: String, namespace: String?) -> (items: [Stored], revision: Int64) {
        lock.lock(); defer { lock.unlock() }
        let all = objects[resource] ?? [:]
        let prefix = namespace.map { "\($0)/" }
        let items = all.filter { prefix == nil || $0.key.hasPrefix(prefix!) }.sorted { $0.key < $1.key }.map(\.value)
        return (items, revision)
    }

    /// Objects of a resource whose field at the dotted `path` is the string `value`, in one
    /// namespace or all, sorted by namespace and name. Served from an index made on the first
    /// such call and kept with every write after: the node authorizer asks which pods are bound
    /// to a node on each of the node's reads, and a scan of every pod for each would make a
    /// cluster's cost grow with the square of its pods.
    public func list(_ resource: String, namespace: String?, whereField path: String, is value: String) -> [Stored] {
        lock.lock(); defer { lock.unlock() }
        if fieldIndexes[resource]?[path] == nil {
            var index = FieldIndex(keys: path.split(separator: ".").map(String.init))
            for (key, stored) in objects[resource] ?? [:] {
                if let field = index.value(of: stored.object) { index.entries[field, default: []].insert(key) }
            }
            fieldIndexes[resource, default: [:]][path] = index
        }
        let prefix = namespace.map { "\($0)/" }
        let all = objects[resource] ?? [:]
        return (fieldIndexes[resource]?[path]?.entries[value] ?? []).filter { prefix == nil || $0.hasPrefix(prefix!) }
            .sorted().compactMap { all[$0] }
    }

    /// Called with the store locked, for each write of `resource`.
    private func reindex(_ resource: String, key: String, old: JSONValue?, new: JSONValue?) {
        guard var indexes = fieldIndexes[resource] else { return }
        for (path, var index) in indexes {
            let before = index.value(of: old), after = index.value(of: new)
            guard before != after else { continue }
            if let before {
                index.entries[before]?.remove(key)
                if index.entries[before]?.isEmpty == true { index.entries[before] = nil }
            }
            if let after { index.entries[after, default: []].insert(key) }
            indexes[path] = index
        }
        fieldIndexes[resource] = indexes
    }

    /// Creates, replaces or deletes one object in a transaction; `mutate` sees the stored object
    /// (or nil) and returns the new one (or nil to delete), or throws to abort. The object's
    /// resourceVersion is set to the new revision. `encoded` is the object as stored, for a
    /// response to send as it is.
    @discardableResult
    public func write(_ resource: String, namespace: String, name: String,
                      _ mutate: (Stored?) throws -> JSONValue?) throws -> (object: JSONValue, kind: WatchEvent.Kind, encoded: Data) {
        lock.lock(); defer { lock.unlock() }
        let key = "\(namespace)/\(name)"
        let existing = objects[resource]?[key]
        guard let new = try mutate(existing) else {
            guard let existing else { throw StoreError.notFound }
            let next = revision + 1
            var deleted = existing.object
            deleted.set(.string(String(next)), at: "metadata.resourceVersion")
            try database.write { db in
                try db.execute(sql: "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                               arguments: [resource, namespace, name])
                try db.execute(sql: "INSERT OR REPLACE INTO state (key, value) VALUES ('revision', ?)", arguments: [next])
            }
            revision = next
            objects[resource]?[key] = nil
            reindex(resource, key: key, old: existing.object, new: nil)
            let encoded = JSONCoding.encode(deleted)
            publish(WatchEvent(kind: .deleted, revision: next, resource: resource, namespace: namespace, object: deleted, encoded: encoded),
                    size: encoded.count)
            return (deleted, .deleted, encoded)
        }
        // A write that changes nothing is no write: no new revision, no event (kube-apiserver
        // compares the bytes the same way, and a no-op apply keeps its resourceVersion).
        if let existing, Self.sameApartFromVersion(new, existing.object) {
            return (existing.object, .modified, JSONCoding.encode(existing.object))
        }
        let next = revision + 1
        var object = new
        object.set(.string(String(next)), at: "metadata.resourceVersion")
        let body = JSONCoding.encode(object)
        guard body.count <= maximumObjectSize else { throw StoreError.tooLarge(size: body.count, limit: maximumObjectSize) }
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO objects (resource, namespace, name, revision, body) VALUES (?, ?, ?, ?, ?)",
                           arguments: [resource, namespace, name, next, body])
            try db.execute(sql: "INSERT OR REPLACE INTO state (key, value) VALUES ('revision', ?)", arguments: [next])
        }
        revision = next
        objects[resource, default: [:]][key] = Stored(revision: next, object: object)
        reindex(resource, key: key, old: existing?.object, new: object)
        let kind: WatchEvent.Kind = existing == nil ? .added : .modified
        publish(WatchEvent(kind: kind, revision: next, resource: resource, namespace: namespace, object: object, encoded: body),
                size: body.count)
        return (object, kind, body)
    }

    private static func sameApartFromVersion(_ new: JSONValue, _ stored: JSONValue) -> Bool {
        var candidate = new
        candidate.set(stored.value(at: "metadata.resourceVersion"), at: "metadata.resourceVersion")
        return candidate == stored
    }

    /// Called with the store locked, so events reach every watcher in revision order.
    private func publish(_ event: WatchEvent, size: Int) {
        window.append(event)
        windowSizes.append(size)
        windowBytes += size
        // Trim in batches: dropping one event per write would move the whole window each time.
        if window.count > windowCapacity + windowCapacity / 4 || windowBytes > windowByteCapacity {
            var drop = max(0, window.count - windowCapacity)
            var bytes = windowBytes - windowSizes[..<drop].reduce(0, +)
            while bytes > windowByteCapacity * 3 / 4, drop < window.count - 1 {
                bytes -= windowSizes[drop]
                drop += 1
            }
            window.removeFirst(drop)
            windowSizes.removeFirst(drop)
            windowBytes = bytes
        }
        watchersLock.lock()
        let targets = watchers.values.filter { $0.selection.wants(event) }.map(\.continuation)
        watchersLock.unlock()
        for continuation in targets { continuation.yield(event) }
    }

    /// Events of a resource after `since` (nil: the current objects as ADDED first, then changes),
    /// those `matching` accepts. Throws `gone` when `since` is older than the event window.
    public func watch(_ resource: String, namespace: String?, since: Int64?,
                      matching: WatchFilter? = nil) throws -> AsyncStream<WatchEvent> {
        lock.lock(); defer { lock.unlock() }
        let selection = WatchSelection(resource: resource, namespace: namespace, matches: matching)
        var backlog: [WatchEvent] = []
        if let since, since < revision {
            if let oldest = window.first?.revision, since < oldest - 1 {
                throw StoreError.gone(oldest: oldest)
            } else if window.isEmpty {
                throw StoreError.gone(oldest: revision)
            }
            backlog = window.filter { $0.revision > since && selection.wants($0) }
        } else if since == nil {
            let prefix = namespace.map { "\($0)/" }
            backlog = (objects[resource] ?? [:]).filter { prefix == nil || $0.key.hasPrefix(prefix!) }
                .sorted { $0.key < $1.key }
                .map { WatchEvent(kind: .added, revision: $0.value.revision, resource: resource,
                                  namespace: $0.value.object.namespace ?? "", object: $0.value.object) }
                .filter(selection.wants)
        }
        let id = UUID()
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream()
        for event in backlog { continuation.yield(event) }
        watchersLock.lock()
        watchers[id] = Watcher(selection: selection, continuation: continuation)
        watchersLock.unlock()
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.watchersLock.lock()
            self.watchers[id] = nil
            self.watchersLock.unlock()
        }
        return stream
    }

    /// Events and bytes the watch window holds now.
    public var windowUsage: (events: Int, bytes: Int) {
        lock.lock(); defer { lock.unlock() }
        return (window.count, windowBytes)
    }

    private static func createPrivately(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { chmod(directory, 0o700) }
        for file in [path, path + "-wal", path + "-shm"] {
            if FileManager.default.fileExists(atPath: file) {
                chmod(file, 0o600)
            } else if file == path {
                let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                if fd >= 0 { close(fd) }
            }
        }
    }

    public var watcherCount: Int {
        watchersLock.lock(); defer { watchersLock.unlock() }
        return watchers.count
    }
}
