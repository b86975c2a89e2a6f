import FairKube
import Foundation

/// Watches the benchmark's pods and notes when each is first seen bound (has `spec.nodeName`).
/// Only bound pods are sent (field selector), so the watch costs one event per pod.
final class BindingWatch: @unchecked Sendable {
    private let client: KubeClient
    private let namespace: String
    private let podIndex: (String) -> Int?
    private let condition = NSCondition()
    private var boundAt: [Double]
    private var boundCount = 0
    private var stopped = false
    private var running = false
    private(set) var lastError: String?

    /// `podIndex` maps a pod name to its slot (nil: not one of ours).
    init(client: KubeClient, namespace: String, pods: Int, podIndex: @escaping (String) -> Int?) {
        self.client = client
        self.namespace = namespace
        self.podIndex = podIndex
        boundAt = Array(repeating: .nan, count: pods)
    }

    /// Starts watching from the namespace's current state; returns once the watch is set up.
    func start() throws {
        let list = try client.list(.pods, namespace: namespace, limit: 1)
        let version = list.value(at: "metadata.resourceVersion")?.stringValue
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in run(from: version) }
        thread.name = "binding watch"
        thread.start()
    }

    private func run(from start: String?) {
        var version = start
        while !isStopped && !isComplete {
            do {
                version = try client.watch(.pods, namespace: namespace, resourceVersion: version, fieldSelector: "spec.nodeName!=",
                                           timeoutSeconds: 600) { [self] type, object in
                    if type == .added || type == .modified, object.value(at: "spec.nodeName")?.stringValue?.isEmpty == false,
                       let name = object.name, let index = podIndex(name) {
                        noteBound(index)
                    }
                    return !isStopped && !isComplete
                } ?? version
            } catch let error as KubeError where error.code == 410 {
                // Fell out of the server's event window: catch up from a list, watch from there.
                version = try? catchUp()
            } catch {
                condition.lock()
                lastError = "\(error)"
                condition.unlock()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    /// Notes every pod the list shows bound; returns the list's resourceVersion.
    private func catchUp() throws -> String? {
        var token: String?
        var version: String?
        repeat {
            let page = try client.list(.pods, namespace: namespace, fieldSelector: "spec.nodeName!=", limit: 500, continue: token)
            for pod in page["items"]?.arrayValue ?? [] {
                if let name = pod.name, let index = podIndex(name) { noteBound(index) }
            }
            version = page.value(at: "metadata.resourceVersion")?.stringValue
            token = page.value(at: "metadata.continue")?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return version
    }

    private func noteBound(_ index: Int) {
        let now = Clock.now()
        condition.lock(); defer { condition.unlock() }
        guard boundAt[index].isNaN else { return }
        boundAt[index] = now
        boundCount += 1
        if boundCount == boundAt.count { condition.broadcast() }
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    private var isComplete: Bool {
        condition.lock(); defer { condition.unlock() }
        return boundCount == boundAt.count
    }

    /// Blocks until every pod is bound or `deadline` passes; true when all are.
    func waitForAll(until deadline: Date) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while boundCount < boundAt.count && condition.wait(until: deadline) {}
        return boundCount == boundAt.count
    }

    var bound: Int {
        condition.lock(); defer { condition.unlock() }
        return boundCount
    }

    /// Monotonic time each pod was seen bound (NaN: not seen).
    var times: [Double] {
        condition.lock(); defer { condition.unlock() }
        return boundAt
    }

    /// Stops after the next event or the watch's end: a blocked watch cannot be interrupted, so
    /// this does not wait for the thread.
    func stop() {
        condition.lock(); defer { condition.unlock() }
        stopped = true
    }
}
