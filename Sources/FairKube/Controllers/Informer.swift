import Foundation

/// A change an informer saw, in the order the API server made it.
public enum InformerEvent: Sendable {
    case added(JSONValue)
    case updated(old: JSONValue, new: JSONValue)
    case deleted(JSONValue)

    public var object: JSONValue {
        switch self {
        case let .added(object), let .deleted(object): return object
        case let .updated(_, new): return new
        }
    }
}

/// A local copy of one kind of object, kept current by list + watch (client-go's informer).
/// Readers get the copy without a request; handlers hear every change. After a dropped watch it
/// resumes from the last resourceVersion it saw, and relists when the server says that is gone.
public final class Informer: @unchecked Sendable {
    public let resource: APIResource
    private let client: KubeClient
    private let namespace: String?
    private let labelSelector: String?
    private let fieldSelector: String?

    private let lock = NSCondition()
    private var objects: [String: JSONValue] = [:]
    private var handlers: [(InformerEvent) -> Void] = []
    private var synced = false
    private var stopped = false
    private var started = false

    public init(client: KubeClient, resource: APIResource, namespace: String? = nil,
                labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    /// "namespace/name" for namespaced objects, "name" otherwise: the key work queues carry.
    public static func key(_ object: JSONValue) -> String {
        if let namespace = object.namespace, !namespace.isEmpty { return "\(namespace)/\(object.name ?? "")" }
        return object.name ?? ""
    }

    public static func key(namespace: String?, name: String) -> String {
        if let namespace, !namespace.isEmpty { return "\(namespace)/\(name)" }
        return name
    }

    /// Handlers run on the informer's thread, one event at a time; keep them short (enqueue a key).
    public func addHandler(_ handler: @escaping (InformerEvent) -> Void) {
        lock.lock(); defer { lock.unlock() }
        handlers.append(handler)
    }

    public func start() {
        lock.lock()
        guard !started else { lock.unlock(); return }
        started = true
        lock.unlock()
        let name = "informer \(resource.plural)"
        let thread = Thread { [self] in
            Thread.nameCurrent(name)
            run()
        }
        thread.name = name
        thread.start()
    }

    public func stop() {
        lock.lock(); defer { lock.unlock() }
        stopped = true
        lock.broadcast()
    }

    /// Blocks until the first list has been applied (or `timeout` passes).
    @discardableResult
    public func waitUntilSynced(timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock(); defer { lock.unlock() }
        while !synced && !stopped {
            if !lock.wait(until: deadline) { return synced }
        }
        return synced
    }

    public var hasSynced: Bool {
        lock.lock(); defer { lock.unlock() }
        return synced
    }

    public func get(_ key: String) -> JSONValue? {
        lock.lock(); defer { lock.unlock() }
        return objects[key]
    }

    public func get(namespace: String?, name: String) -> JSONValue? { get(Self.key(namespace: namespace, name: name)) }

    /// The cached objects, optionally only those in `namespace` and matching `predicate`.
    public func list(namespace: String? = nil, where predicate: ((JSONValue) -> Bool)? = nil) -> [JSONValue] {
        lock.lock()
        let all = Array(objects.values)
        lock.unlock()
        return all.filter { object in
            (namespace == nil || object.namespace == namespace) && (predicate?(object) ?? true)
        }
    }

    // MARK: - The loop

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    private func run() {
        var resourceVersion: String?
        var failures = 0
        while !isStopped {
            do {
                if resourceVersion == nil { resourceVersion = try relist() }
                let last = try client.watch(resource, namespace: namespace, resourceVersion: resourceVersion,
                                            labelSelector: labelSelector, fieldSelector: fieldSelector,
                                            timeoutSeconds: 240 + Int.random(in: 0..<120)) { [self] type, object in
                    if isStopped { return false }
                    switch type {
                    case .added, .modified: apply(object, deleted: false)
                    case .deleted: apply(object, deleted: true)
                    case .bookmark: break
                    case .error:
                        // The server ended the watch with a Status; 410 means our version is too old.
                        if object["code"]?.intValue == 410 { resourceVersion = nil }
                        return false
                    }
                    if let version = object.resourceVersion, type != .error { resourceVersion = version }
                    return true
                }
                if let last, resourceVersion != nil { resourceVersion = last }
                failures = 0
            } catch let error as KubeError where error.code == 410 {
                resourceVersion = nil
            } catch {
                // The server is away (restarting, or not up yet): back off, then resume.
                failures += 1
                let delay = min(5.0, 0.1 * pow(2.0, Double(min(failures, 6))))
                lock.lock()
                if !stopped { _ = lock.wait(until: Date().addingTimeInterval(delay)) }
                lock.unlock()
            }
        }
    }

    /// Lists every page and replaces the copy, telling handlers what changed since the last copy.
    private func relist() throws -> String? {
        var fresh: [String: JSONValue] = [:]
        var token: String?
        var version: String?
        repeat {
            let page = try client.list(resource, namespace: namespace, labelSelector: labelSelector,
                                       fieldSelector: fieldSelector, limit: 500, continue: token)
            for item in page["items"]?.arrayValue ?? [] { fresh[Self.key(item)] = item }
            version = page.value(at: "metadata.resourceVersion")?.stringValue
            token = page.value(at: "metadata.continue")?.stringValue
            if token?.isEmpty == true { token = nil }
        } while token != nil

        lock.lock()
        let old = objects
        objects = fresh
        let handlers = self.handlers
        lock.unlock()
        for (key, object) in fresh {
            if let previous = old[key] {
                if previous.resourceVersion != object.resourceVersion { notify(handlers, .updated(old: previous, new: object)) }
            } else {
                notify(handlers, .added(object))
            }
        }
        for (key, object) in old where fresh[key] == nil { notify(handlers, .deleted(object)) }
        lock.lock()
        synced = true
        lock.broadcast()
        lock.unlock()
        return version
    }

    private func apply(_ object: JSONValue, deleted: Bool) {
        let key = Self.key(object)
        lock.lock()
        let previous = objects[key]
        if deleted { objects[key] = nil } else { objects[key] = object }
        let handlers = self.handlers
        lock.unlock()
        if deleted {
            notify(handlers, .deleted(previous ?? object))
        } else if let previous {
            notify(handlers, .updated(old: previous, new: object))
        } else {
            notify(handlers, .added(object))
        }
    }

    private func notify(_ handlers: [(InformerEvent) -> Void], _ event: InformerEvent) {
        for handler in handlers { handler(event) }
    }
}
