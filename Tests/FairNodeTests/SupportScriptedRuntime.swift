@testable import FairNode
import FairKube
import FairRegistry
import Foundation

/// A runtime whose containers do what the test says: exit on their own after a while with a
/// given code, ignore SIGTERM, print lines to their log. It records every spec it was given and
/// every signal, so tests can check what the agent asked for.
final class ScriptedRuntime: ContainerRuntime, @unchecked Sendable {
    struct Script {
        var exitAfter: TimeInterval?
        var exitCode: Int32 = 0
        var ignoresSIGTERM = false
        var output: String?
    }

    private let lock = NSLock()
    private var containers: [String: (spec: ContainerSpec?, state: ContainerState, script: Script)] = [:]
    private var scripts: [String: Script] = [:]
    private var imageConfigs: [String: JSONValue] = [:]
    private var failingImages: [String: String] = [:]
    private var pullCredentials: [String: PullCredentials] = [:]
    private(set) var startedSpecs: [ContainerSpec] = []
    private(set) var signals: [(id: String, signal: Int32)] = []

    /// The credentials `image` was last prepared with.
    func credentials(pulling image: String) -> PullCredentials? {
        lock.lock(); defer { lock.unlock() }
        return pullCredentials[image]
    }

    /// Containers named `name` behave per `script` from their next start.
    func script(_ name: String, _ script: Script) {
        lock.lock(); defer { lock.unlock() }
        scripts[name] = script
    }

    func image(_ reference: String, config: JSONValue) {
        lock.lock(); defer { lock.unlock() }
        imageConfigs[reference] = config
    }

    func failPulls(of reference: String, with message: String?) {
        lock.lock(); defer { lock.unlock() }
        failingImages[reference] = message
    }

    /// A container the runtime has but no agent started (what a crash could leave behind).
    func addOrphan(_ id: String) {
        lock.lock(); defer { lock.unlock() }
        containers[id] = (nil, .running(startedAt: Date()), Script())
    }

    var specs: [ContainerSpec] {
        lock.lock(); defer { lock.unlock() }
        return startedSpecs
    }

    func signalsSent(to id: String) -> [Int32] {
        lock.lock(); defer { lock.unlock() }
        return signals.filter { $0.id == id }.map(\.signal)
    }

    var ids: [String] {
        lock.lock(); defer { lock.unlock() }
        return Array(containers.keys)
    }

    /// Ends a running container now, as if its process exited with `code`.
    func exit(_ id: String, code: Int32) {
        lock.lock(); defer { lock.unlock() }
        guard let container = containers[id], case let .running(startedAt) = container.state else { return }
        containers[id]?.state = .exited(code: code, reason: code == 0 ? "Completed" : "Error", startedAt: startedAt, finishedAt: Date())
    }

    func appendLog(_ id: String, _ text: String) {
        lock.lock()
        let path = containers[id]?.spec?.logPath
        lock.unlock()
        guard let path else { return }
        Self.append(text, to: path)
    }

    private static func append(_ text: String, to path: String) {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }

    // MARK: - ContainerRuntime

    func prepare(image reference: String, pullPolicy: String, credentials: PullCredentials) throws -> PreparedImage {
        lock.lock(); defer { lock.unlock() }
        pullCredentials[reference] = credentials
        if let message = failingImages[reference] { throw FakeRuntimeError(message: message) }
        return PreparedImage(reference: reference, digest: "sha256:" + String(repeating: "ab", count: 32), rootfs: "/nonexistent",
                             config: imageConfigs[reference] ?? ["Cmd": ["/bin/true"]])
    }

    func start(_ spec: ContainerSpec) throws {
        lock.lock()
        let script = scripts[spec.containerName] ?? Script()
        containers[spec.id] = (spec, .running(startedAt: Date()), script)
        startedSpecs.append(spec)
        lock.unlock()
        if let output = script.output { Self.append(output, to: spec.logPath) }
    }

    func state(id: String) -> ContainerState {
        lock.lock(); defer { lock.unlock() }
        guard let container = containers[id] else { return .unknown }
        if case let .running(startedAt) = container.state, let after = container.script.exitAfter,
           Date().timeIntervalSince(startedAt) >= after {
            let code = container.script.exitCode
            let exited = ContainerState.exited(code: code, reason: code == 0 ? "Completed" : "Error", startedAt: startedAt,
                                               finishedAt: startedAt.addingTimeInterval(after))
            containers[id]?.state = exited
            return exited
        }
        return container.state
    }

    func signal(id: String, _ signal: Int32) throws {
        lock.lock(); defer { lock.unlock() }
        signals.append((id, signal))
        guard let container = containers[id], case let .running(startedAt) = container.state else { return }
        if signal == SIGTERM && container.script.ignoresSIGTERM { return }
        containers[id]?.state = .exited(code: 128 + signal, reason: "Error", startedAt: startedAt, finishedAt: Date())
    }

    func remove(id: String) throws {
        lock.lock(); defer { lock.unlock() }
        containers[id] = nil
    }

    func containerIDs() throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        return Array(containers.keys)
    }
}
