import FairSupport
import Foundation

/// Writes core/v1 Events about objects, the way `kubectl describe` shows them: best effort and
/// off the caller's path. At most `maxQueued` wait (beyond that they are dropped, as client-go's
/// broadcaster drops past 1000); `Normal` events may be limited by a token bucket, so that under a
/// flood of pods they cost a small share of the API's writes. An event that cannot be written is
/// counted and dropped: it never fails the work that caused it. The writer is a job on the
/// shared thread pool while events wait, not a thread of its own.
public final class EventRecorder: @unchecked Sendable {
    public enum EventType: String, Sendable { case normal = "Normal", warning = "Warning" }

    /// The object an event is about (`involvedObject`).
    public struct InvolvedObject: Sendable {
        public var apiVersion: String
        public var kind: String
        public var namespace: String
        public var name: String
        public var uid: String
        public var resourceVersion: String?

        public init(apiVersion: String, kind: String, namespace: String, name: String, uid: String, resourceVersion: String? = nil) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.uid = uid
            self.resourceVersion = resourceVersion
        }

        public init?(_ object: JSONValue) {
            guard let name = object.name else { return nil }
            self.init(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: object["kind"]?.stringValue ?? "",
                      namespace: object.namespace ?? "", name: name, uid: object.uid ?? "",
                      resourceVersion: object.resourceVersion)
        }
    }

    private struct Pending {
        var involved: InvolvedObject
        var type: EventType
        var reason: String
        var message: String
        var time: Date
    }

    private let client: KubeClient
    private let component: String
    private let clock: WallClock
    private let pool: ThreadPool
    private let maxQueued: Int
    private let normalPerSecond: Double?
    private let normalBurst: Double
    private let log: (String) -> Void

    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var tokens: Double
    private var refilled: Date
    private var stopped = false
    private var writing = false
    private var dropped = 0
    private var written = 0
    /// Starts at a random point so that two recorders naming events of one object at one instant differ.
    private var sequence = UInt32.random(in: 0..<(1 << 20))

    /// `normalPerSecond` nil: every Normal event is written (the controllers' few); a number:
    /// a token bucket of `normalBurst` refilled at that rate (the scheduler's one per pod).
    public init(client: KubeClient, component: String, clock: WallClock = SystemClock.shared, pool: ThreadPool = .shared,
                maxQueued: Int = 1000, normalPerSecond: Double? = nil, normalBurst: Int = 0,
                log: @escaping (String) -> Void = { _ in }) {
        self.client = client
        self.component = component
        self.clock = clock
        self.pool = pool
        self.maxQueued = maxQueued
        self.normalPerSecond = normalPerSecond
        self.normalBurst = Double(normalBurst)
        self.log = log
        tokens = Double(normalBurst)
        refilled = clock.now
    }

    /// Events not written: over the rate, over the queue limit, refused, or left at stop.
    public var droppedCount: Int {
        condition.lock(); defer { condition.unlock() }
        return dropped
    }

    public var writtenCount: Int {
        condition.lock(); defer { condition.unlock() }
        return written
    }

    /// Queues an event about `object`; never blocks. Returns false when it was dropped.
    @discardableResult
    public func record(_ object: JSONValue, _ type: EventType, reason: String, message: String) -> Bool {
        guard let involved = InvolvedObject(object) else { return false }
        return record(involved, type, reason: reason, message: message)
    }

    @discardableResult
    public func record(_ involved: InvolvedObject, _ type: EventType, reason: String, message: String) -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard !stopped else { return false }
        if queue.count >= maxQueued || (type == .normal && !takeToken()) {
            dropped += 1
            return false
        }
        queue.append(Pending(involved: involved, type: type, reason: reason, message: message, time: clock.now))
        if !writing {
            writing = true
            pool.submit { [self] in drain() }
        }
        return true
    }

    /// Events still queued are dropped; waits briefly for the one being written.
    public func stop() {
        condition.lock(); defer { condition.unlock() }
        stopped = true
        dropped += queue.count
        queue.removeAll()
        let deadline = Date().addingTimeInterval(5)
        while writing && condition.wait(until: deadline) {}
    }

    /// Whether no event waits or is being written (for tests).
    public var isIdle: Bool {
        condition.lock(); defer { condition.unlock() }
        return queue.isEmpty && !writing
    }

    private func takeToken() -> Bool {
        guard let normalPerSecond else { return true }
        let now = clock.now
        tokens = min(normalBurst, tokens + max(0, now.timeIntervalSince(refilled)) * normalPerSecond)
        refilled = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private func drain() {
        while let event = next() {
            // Events about cluster-scoped objects (nodes) live in "default", as Kubernetes keeps them.
            let namespace = event.involved.namespace.isEmpty ? "default" : event.involved.namespace
            do {
                _ = try client.create(.events, namespace: namespace, body(of: event, namespace: namespace))
                condition.lock(); written += 1; condition.unlock()
            } catch {
                // The namespace may be going away, the server restarting.
                condition.lock(); dropped += 1; condition.unlock()
                log("\(component): cannot record event \(event.reason) for \(namespace)/\(event.involved.name): \(error)")
            }
        }
    }

    private func next() -> Pending? {
        condition.lock(); defer { condition.unlock() }
        guard !stopped, !queue.isEmpty else {
            writing = false
            condition.broadcast()
            return nil
        }
        sequence &+= 1
        return queue.removeFirst()
    }

    private func body(of event: Pending, namespace: String) -> JSONValue {
        let time = JSONValue.string(KubeTime.format(event.time))
        // kube's recorders name events "<object>.<unix nanoseconds in hex>"; the sequence keeps two
        // events of one object in the same nanosecond apart.
        let nanos = UInt64(max(0, event.time.timeIntervalSince1970 * 1e9)) &+ UInt64(sequence)
        var involved: JSONValue = ["kind": .string(event.involved.kind), "apiVersion": .string(event.involved.apiVersion),
                                   "name": .string(event.involved.name), "uid": .string(event.involved.uid)]
        if !event.involved.namespace.isEmpty { involved["namespace"] = .string(event.involved.namespace) }
        if let version = event.involved.resourceVersion { involved["resourceVersion"] = .string(version) }
        return ["apiVersion": "v1", "kind": "Event",
                "metadata": ["name": .string("\(event.involved.name).\(String(nanos, radix: 16))"),
                             "namespace": .string(namespace)],
                "involvedObject": involved, "reason": .string(event.reason), "message": .string(event.message),
                "type": .string(event.type.rawValue), "source": ["component": .string(component)],
                "reportingComponent": .string(component), "reportingInstance": .string(component),
                "firstTimestamp": time, "lastTimestamp": time, "count": 1]
    }
}
