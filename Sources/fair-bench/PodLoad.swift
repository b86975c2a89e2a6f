import FairKube
import Foundation

/// Creates the benchmark's pods from several threads at once, as a burst of users or a
/// controller scaling up would, timing every create.
final class PodLoad: @unchecked Sendable {
    let count: Int
    let namespace: String
    let latencies = LatencySamples()
    private let client: KubeClient
    private let threads: Int
    private let requests: JSONValue
    /// Monotonic start of each pod's create request (NaN until sent); threads write disjoint slots.
    private let createdAt: UnsafeMutableBufferPointer<Double>
    private let progress = NSLock()
    /// Creates answered per thread: thread t creates pods t, t+threads, t+2·threads, …
    private var answeredPerThread: [Int]

    init(client: KubeClient, namespace: String, count: Int, threads: Int, cpu: String, memory: String) {
        self.client = client
        self.namespace = namespace
        self.count = count
        self.threads = threads
        requests = ["cpu": .string(cpu), "memory": .string(memory)]
        answeredPerThread = Array(repeating: 0, count: threads)
        createdAt = .allocate(capacity: count)
        createdAt.initialize(repeating: .nan)
    }

    deinit { createdAt.deallocate() }

    static func name(_ index: Int) -> String { String(format: "bench-pod-%05d", index) }

    /// The slot of a pod name this load created.
    static func index(of name: String) -> Int? {
        guard name.hasPrefix("bench-pod-") else { return nil }
        return Int(name.dropFirst("bench-pod-".count))
    }

    private func pod(_ index: Int) -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod",
         "metadata": ["name": .string(Self.name(index)), "labels": ["app": "fair-bench"]],
         "spec": ["containers": [["name": "main", "image": "fair.local/bench/pause:1", "resources": ["requests": requests]]],
                  "terminationGracePeriodSeconds": 0]]
    }

    /// Creates every pod; returns when all requests are answered. Plain threads, not
    /// `concurrentPerform`: that runs only as many at once as there are cores, and these threads
    /// mostly wait on the network.
    func run() {
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            let worker = Thread { [self] in
                defer { group.leave() }
                for index in stride(from: thread, to: count, by: threads) {
                    createdAt[index] = Clock.now()
                    let body = pod(index)
                    _ = try? latencies.measure { try client.create(.pods, namespace: namespace, body) }
                    progress.lock(); answeredPerThread[thread] += 1; progress.unlock()
                }
            }
            worker.name = "pod load \(thread)"
            worker.start()
        }
        group.wait()
    }

    /// Every pod below this index has been created (so the probe GETs pods that exist).
    var createdPrefix: Int {
        progress.lock(); defer { progress.unlock() }
        return min(count, threads * (answeredPerThread.min() ?? 0))
    }

    var createTimes: [Double] { Array(createdAt) }
}
