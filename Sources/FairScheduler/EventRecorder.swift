import FairKube
import Foundation

/// Writes core/v1 Events about pods, best effort and off the scheduling path: one background
/// thread, at most `maxQueued` waiting (beyond that they are dropped, as client-go's broadcaster
/// drops past 1000), and `Normal` events limited by a token bucket so that under a flood of pods
/// they cost a small share of the API's writes instead of one write per binding. A lost event
/// loses nothing else: the pod's own status says whether it was scheduled.
final class EventRecorder: @unchecked Sendable {
    struct Involved: Sendable {
        var namespace: String
        var name: String
        var uid: String
        var resourceVersion: String?
    }

    private struct Pending {
        var involved: Involved
        var type: String
        var reason: String
        var message: String
        var time: Date
    }

    private let client: KubeClient
    private let component: String
    private let maxQueued: Int
    private let normalPerSecond: Double
    private let normalBurst: Double

    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var tokens: Double
    private var refilled = Date()
    private var stopped = false
    private var writerRunning = false
    private var dropped = 0
    private var written = 0

    init(client: KubeClient, component: String, maxQueued: Int = 1000, normalPerSecond: Double, normalBurst: Int) {
        self.client = client
        self.component = component
        self.maxQueued = maxQueued
        self.normalPerSecond = normalPerSecond
        self.normalBurst = Double(normalBurst)
        tokens = Double(normalBurst)
    }

    /// Events not written: over the rate, over the queue limit, refused, or left at stop.
    var droppedCount: Int {
        condition.lock(); defer { condition.unlock() }
        return dropped
    }

    var writtenCount: Int {
        condition.lock(); defer { condition.unlock() }
        return written
    }

    func start() {
        condition.lock(); defer { condition.unlock() }
        guard !writerRunning && !stopped else { return }
        writerRunning = true
        let thread = Thread { [self] in run() }
        thread.name = "\(component) events"
        thread.start()
    }

    /// Queues an event; never blocks. Returns false when it was dropped.
    @discardableResult
    func record(_ involved: Involved, type: String, reason: String, message: String) -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard !stopped else { return false }
        if queue.count >= maxQueued || (type == "Normal" && !takeToken()) {
            dropped += 1
            return false
        }
        queue.append(Pending(involved: involved, type: type, reason: reason, message: message, time: Date()))
        condition.signal()
        return true
    }

    /// Events still queued are dropped; waits briefly for the one being written.
    func stop() {
        condition.lock(); defer { condition.unlock() }
        stopped = true
        dropped += queue.count
        queue.removeAll()
        condition.broadcast()
        let deadline = Date().addingTimeInterval(5)
        while writerRunning && condition.wait(until: deadline) {}
    }

    private func takeToken() -> Bool {
        let now = Date()
        tokens = min(normalBurst, tokens + now.timeIntervalSince(refilled) * normalPerSecond)
        refilled = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private func run() {
        while let event = next() {
            do {
                _ = try client.create(.events, namespace: event.involved.namespace, body(of: event))
                condition.lock(); written += 1; condition.unlock()
            } catch {
                // Best effort: the namespace may be going away, the server restarting.
                condition.lock(); dropped += 1; condition.unlock()
            }
        }
        condition.lock()
        writerRunning = false
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> Pending? {
        condition.lock(); defer { condition.unlock() }
        while queue.isEmpty && !stopped { condition.wait() }
        guard !stopped else { return nil }
        return queue.removeFirst()
    }

    private func body(of event: Pending) -> JSONValue {
        let time = JSONValue.string(KubeTime.format(event.time))
        // kube's recorder names events "<object>.<unix nanoseconds in hex>".
        let nanos = UInt64(max(0, event.time.timeIntervalSince1970 * 1e9))
        var involved: JSONValue = ["kind": "Pod", "apiVersion": "v1", "namespace": .string(event.involved.namespace),
                                   "name": .string(event.involved.name), "uid": .string(event.involved.uid)]
        if let version = event.involved.resourceVersion { involved["resourceVersion"] = .string(version) }
        return ["apiVersion": "v1", "kind": "Event",
                "metadata": ["name": .string("\(event.involved.name).\(String(nanos, radix: 16))"),
                             "namespace": .string(event.involved.namespace)],
                "involvedObject": involved, "reason": .string(event.reason), "message": .string(event.message),
                "type": .string(event.type), "source": ["component": .string(component)],
                "reportingComponent": .string(component), "firstTimestamp": time, "lastTimestamp": time, "count": 1]
    }
}
