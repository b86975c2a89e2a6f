import FairKube
import FairRegistry
import Foundation

/// A runtime that runs nothing, for scheduling benchmarks (like kubemark's hollow nodes): images
/// are "prepared" at once, a started container is recorded as running and stays so until it is
/// signalled. Never a default: a pod on a fake node does no work.
public final class FakeRuntime: ContainerRuntime, ContainerRuntimeIdentity, @unchecked Sendable {
    private let lock = NSLock()
    private var containers: [String: ContainerState] = [:]

    public init() {}

    public var runtimeName: String { "fake" }
    public var runtimeVersion: String { "0" }

    public func prepare(image reference: String, pullPolicy: String, credentials: PullCredentials) throws -> PreparedImage {
        // A stable digest per reference, so imageID reads like a real one.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in reference.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let digest = "sha256:" + String(repeating: String(format: "%016llx", hash), count: 4)
        // A command like a pause container's, so pods without one of their own are valid here too.
        return PreparedImage(reference: reference, digest: digest, rootfs: "/nonexistent", config: ["Env": [], "Cmd": ["/pause"]])
    }

    public func start(_ spec: ContainerSpec) throws {
        lock.lock(); defer { lock.unlock() }
        if case .running = containers[spec.id] {
            throw FakeRuntimeError(message: "container \(spec.id) is already running")
        }
        containers[spec.id] = .running(startedAt: Date())
    }

    public func state(id: String) -> ContainerState {
        lock.lock(); defer { lock.unlock() }
        return containers[id] ?? .unknown
    }

    /// SIGTERM ends a fake container cleanly (exit 0); any other signal kills it (128 + signal).
    public func signal(id: String, _ signal: Int32) throws {
        lock.lock(); defer { lock.unlock() }
        guard case let .running(startedAt)? = containers[id] else { return }
        let code: Int32 = signal == SIGTERM ? 0 : 128 + signal
        containers[id] = .exited(code: code, reason: code == 0 ? "Completed" : "Error", startedAt: startedAt, finishedAt: Date())
    }

    public func remove(id: String) throws {
        lock.lock(); defer { lock.unlock() }
        containers[id] = nil
    }

    public func containerIDs() throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        return Array(containers.keys)
    }
}

public struct FakeRuntimeError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
