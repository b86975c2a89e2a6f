import FairKube
import Foundation

/// Reads issued beside the load, at a steady pace, to measure what any other client of the API
/// would see while it is busy: GET of one pod (10/s) and a first page of the pod list (500,
/// kubectl's chunk size; 2/s). Latency is as the client sees it, decoding included. The pace is
/// that of a few users and controllers, not a load of its own: a page of 500 pods costs the
/// server (and this process) far more than a create.
final class APIProbe: @unchecked Sendable {
    let gets = LatencySamples()
    let lists = LatencySamples()
    private let client: KubeClient
    private let namespace: String
    private let existing: () -> Int
    private let condition = NSCondition()
    private var stopped = false
    private var running = false

    /// `existing` says how many pods exist (their names are `PodLoad.name(0..<n)`).
    init(client: KubeClient, namespace: String, existing: @escaping () -> Int) {
        self.client = client
        self.namespace = namespace
        self.existing = existing
    }

    func start(interval: TimeInterval = 0.1, listEvery: Int = 5) {
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in
            var round = 0
            while waitFor(interval) {
                let count = existing()
                if count > 0 {
                    let name = PodLoad.name(Int.random(in: 0..<count))
                    _ = try? gets.measure { try client.get(.pods, namespace: namespace, name: name) }
                }
                if round % listEvery == 0 {
                    _ = try? lists.measure { try client.list(.pods, namespace: namespace, limit: 500) }
                }
                round += 1
            }
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "api probe"
        thread.start()
    }

    private func waitFor(_ interval: TimeInterval) -> Bool {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(interval)
        while !stopped && condition.wait(until: deadline) {}
        return !stopped
    }

    func stop() {
        condition.lock(); defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while running { condition.wait() }
    }
}
