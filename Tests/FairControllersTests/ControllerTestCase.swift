import FairControllers
import FairKube
import FairAPIServer
import FairServer
import FairSupport
import Foundation
import XCTest

/// The controllers against a real API server, with no scheduler and no node agent: a test plays
/// the node by writing pod status through the API.
///
/// By default the server is the API server's handlers called in process (`InProcessTransport`:
/// the same authentication, admission, store and watches, no TLS or sockets) and the
/// controllers run on a `ManualClock`: while a test waits and the controllers are idle, time
/// jumps to the next timer, so back-offs, deadlines and grace periods pass without real
/// sleeps. `FAIR_TEST_TRANSPORT=https` runs the same tests against a whole server over HTTPS on
/// the machine's clock, as before (`scripts/test` runs both).
class ControllerTestCase: XCTestCase {
    static let certificateAuthorityPEM = "-----BEGIN CERTIFICATE-----\nZmFpciB0ZXN0IENB\n-----END CERTIFICATE-----\n"
    static var overHTTPS: Bool { ProcessInfo.processInfo.environment["FAIR_TEST_TRANSPORT"] == "https" }
    /// The clock of the test in progress (what `timestamp()` reads).
    nonisolated(unsafe) static var currentClock: WallClock = SystemClock.shared

    private var directory: String!
    private var serverTask: Task<Void, Error>?
    private var manager: ControllerManager?
    private var recurring: [Recurring] = []
    var client: KubeClient!
    /// The controllers' clock: manual in process, the machine's over HTTPS.
    private(set) var clock: WallClock = SystemClock.shared
    var now: Date { clock.now }

    override func setUp() async throws {
        directory = NSTemporaryDirectory() + "controllers-\(UUID().uuidString)"
        if Self.overHTTPS {
            var options = ServerOptions(dataDirectory: directory)
            options.port = 0
            options.registryPort = 0
            let server = try BundledServer(options: options)
            let (ready, signal) = AsyncStream<String>.makeStream()
            serverTask = Task { try await server.run { endpoints in signal.yield(endpoints.kubeconfig) } }
            var iterator = ready.makeAsyncIterator()
            guard let kubeconfig = await iterator.next() else { throw Timeout(description: "the server did not start") }
            client = try KubeClient(config: try Kubeconfig.load(path: kubeconfig))
            clock = SystemClock.shared
        } else {
            let token = "controller-tests"
            let api = try APIServer(dataDirectory: directory, token: token)
            // A CA as a kubeconfig carries one (the root CA publisher hands it to namespaces).
            client = KubeClient(config: Kubeconfig(server: "https://in-process", certificateAuthorityPEM: Self.certificateAuthorityPEM, token: token),
                                transport: InProcessTransport(api: api))
            clock = ManualClock(now: Date())
        }
        Self.currentClock = clock
    }

    override func tearDown() async throws {
        for timer in recurring { timer.stop() }
        manager?.stop()
        serverTask?.cancel()
        _ = try? await serverTask?.value
        try? FileManager.default.removeItem(atPath: directory)
        Self.currentClock = SystemClock.shared
    }

    /// Starts the controllers; tests that need other timings change `options` first.
    func startControllers(_ configure: (inout ControllerOptions) -> Void = { _ in }) {
        var options = ControllerOptions()
        options.jobBackoffBase = 0.05
        options.jobBackoffMax = 0.2
        options.clock = clock
        configure(&options)
        let manager = ControllerManager(client: client, options: options)
        manager.start()
        self.manager = manager
    }

    /// Stops the controllers, as a controller manager that goes away does; `startControllers`
    /// starts a new one, which knows only what it reads from the API.
    func stopControllers() {
        manager?.stop()
        manager = nil
    }

    /// Runs `work` every `interval` seconds of the test's clock until the test ends.
    func every(_ interval: TimeInterval, _ work: @escaping @Sendable () -> Void) {
        let timer = Recurring(clock: clock, interval: interval, work: work)
        recurring.append(timer)
        timer.start()
    }

    // MARK: - Waiting

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    /// Lets the controllers act on what just changed; on the manual clock, once they have
    /// nothing left to do, moves time on to the next timer (a back-off, a deadline, a periodic
    /// check; at most 1 s), or by 0.1 s when none is set.
    func settle() {
        guard let clock = clock as? ManualClock else { return Thread.sleep(forTimeInterval: 0.02) }
        // Waits (up to 0.1 s) for the controllers to finish what the last write caused: idle at
        // three looks in a row, so the informers have had time to deliver it too.
        var quiet = 0
        let limit = Date().addingTimeInterval(0.1)
        while quiet < 3 && Date() < limit {
            Thread.sleep(forTimeInterval: 0.0003)
            quiet = (manager?.isIdle ?? true) ? quiet + 1 : 0
        }
        guard quiet == 3 else { return }
        let next = clock.nextDeadline.map { $0.timeIntervalSince(clock.now) } ?? 0.1
        clock.advance(by: min(max(next, 0.001), 1))
    }

    /// Polls `probe` until it returns a value, failing after `timeout` seconds of real time. (Return a
    /// `JSONValue` with `guard … else { return nil }`: in `cond ? value : nil` the nil would be
    /// the JSON null, a value.)
    @discardableResult
    func eventually<T>(_ what: String, timeout: TimeInterval = 10, _ probe: () throws -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: Error?
        while Date() < deadline {
            do {
                if let value = try probe() { return value }
            } catch {
                lastError = error
            }
            settle()
        }
        throw Timeout(description: "timed out after \(timeout)s waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
    }

    /// Polls `condition` until it holds, failing after `timeout` seconds.
    func waitUntil(_ what: String, timeout: TimeInterval = 10, _ condition: () throws -> Bool) throws {
        try eventually(what, timeout: timeout) { () -> Bool? in
            if try condition() { return true }
            return nil
        }
    }

    /// Checks `condition` stays true for `duration` seconds of the test's clock.
    func stays(_ what: String, for duration: TimeInterval, _ condition: () throws -> Bool) throws {
        let deadline = now.addingTimeInterval(duration)
        while now < deadline {
            guard try condition() else { throw Timeout(description: "\(what) stopped holding") }
            if clock is ManualClock {
                settle()
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard try condition() else { throw Timeout(description: "\(what) stopped holding") }
    }

    // MARK: - Reading

    func list(_ resource: APIResource, labelSelector: String? = nil) throws -> [JSONValue] {
        try client.list(resource, namespace: "default", labelSelector: labelSelector)["items"]?.arrayValue ?? []
    }

    func pods(_ labelSelector: String? = nil) throws -> [JSONValue] { try list(.pods, labelSelector: labelSelector) }

    func activePods(_ labelSelector: String? = nil) throws -> [JSONValue] {
        try pods(labelSelector).filter { pod in
            let phase = pod.value(at: "status.phase")?.stringValue
            return phase != "Succeeded" && phase != "Failed" && pod.value(at: "metadata.deletionTimestamp") == nil
        }
    }

    func isReady(_ pod: JSONValue) -> Bool {
        (pod.value(at: "status.conditions")?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    func condition(_ object: JSONValue, _ type: String) -> JSONValue? {
        (object.value(at: "status.conditions")?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
    }

    func eventReasons(for name: String) throws -> [String] {
        try list(.events).filter { $0.value(at: "involvedObject.name")?.stringValue == name }
            .compactMap { $0["reason"]?.stringValue }
    }

    // MARK: - Playing the node

    static var nextIP = 10

    func markRunning(_ pod: JSONValue, ready: Bool = true) throws {
        Self.nextIP += 1
        let ip = pod.value(at: "status.podIP")?.stringValue ?? "10.0.0.\(Self.nextIP)"
        _ = try client.mergePatch(.pods, namespace: pod.namespace, name: pod.name ?? "", [
            "status": ["phase": "Running", "podIP": .string(ip),
                       "conditions": [["type": "Ready", "status": ready ? "True" : "False",
                                       "lastTransitionTime": .string(Self.timestamp())]]],
        ], subresource: "status")
    }

    func markFinished(_ pod: JSONValue, succeeded: Bool) throws {
        _ = try client.mergePatch(.pods, namespace: pod.namespace, name: pod.name ?? "", [
            "status": ["phase": succeeded ? "Succeeded" : "Failed",
                       "conditions": [["type": "Ready", "status": "False", "lastTransitionTime": .string(Self.timestamp())]]],
        ], subresource: "status")
    }

    static func timestamp(_ date: Date? = nil) -> String {
        KubeTime.format(date ?? currentClock.now)
    }

    static func container(image: String = "registry.local/app:1", ports: [JSONValue] = []) -> JSONValue {
        var container: JSONValue = ["name": "main", "image": .string(image)]
        if !ports.isEmpty { container["ports"] = .array(ports) }
        return container
    }
}

/// Work repeated on a clock: on a `ManualClock` a timer that sets the next one (so it runs in
/// step with the time the test moves), on the machine's clock a thread that sleeps.
final class Recurring: @unchecked Sendable {
    private let clock: WallClock
    private let interval: TimeInterval
    private let work: @Sendable () -> Void
    private let condition = NSCondition()
    private var stopped = false
    private var threadRunning = false

    init(clock: WallClock, interval: TimeInterval, work: @escaping @Sendable () -> Void) {
        self.clock = clock
        self.interval = interval
        self.work = work
    }

    func start() {
        if clock is ManualClock {
            schedule()
            return
        }
        condition.lock(); threadRunning = true; condition.unlock()
        Thread.detachNewThread { [self] in
            while !isStopped {
                work()
                Thread.sleep(forTimeInterval: interval)
            }
            condition.lock(); threadRunning = false; condition.broadcast(); condition.unlock()
        }
    }

    func stop() {
        condition.lock(); defer { condition.unlock() }
        stopped = true
        while threadRunning { condition.wait() }
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    private func schedule() {
        clock.schedule(after: interval) { [self] in
            guard !isStopped else { return }
            work()
            schedule()
        }
    }
}
