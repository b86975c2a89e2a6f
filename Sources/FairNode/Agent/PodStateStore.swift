import FairArchive
import Foundation

/// How a container instance ended, as the pod's status reports it.
struct ContainerTermination: Codable, Equatable, Sendable {
    var exitCode: Int32
    var reason: String
    var message: String?
    var startedAt: Date?
    var finishedAt: Date
    var containerID: String
}

/// What the agent must remember about one container across its own restarts.
struct PersistedContainer: Codable, Equatable, Sendable {
    var restartCount = 0
    /// The runtime id of the current instance; written before the runtime is asked to start it.
    var containerID: String?
    /// True once the runtime said the current instance started: an unknown id that never
    /// started is started again, one that did is reported lost.
    var startConfirmed = false
    var imageID: String?
    /// The current instance's end, once it ended (kept when the runtime forgets it).
    var termination: ContainerTermination?
    /// The previous instance's end (`lastState`).
    var lastTermination: ContainerTermination?
    /// Crash-loop back-off: the current delay and when the next start may happen.
    var backOff: TimeInterval = 0
    var notBefore: Date?
}

/// What the agent must remember about one pod across its own restarts: identity, address and
/// containers. Lives in `DATA/pods/<uid>/state.json`, next to the pod's volumes and logs.
struct PersistedPod: Codable, Equatable, Sendable {
    var uid: String
    var namespace: String
    var name: String
    var podIP: String?
    /// The spec's grace period, for a pod that vanished from the API while this agent was away.
    var terminationGracePeriodSeconds: Int64?
    var containers: [String: PersistedContainer] = [:]
}

/// The `DATA/pods` tree: one directory per pod uid.
struct PodStateStore: Sendable {
    let root: String

    init(dataDirectory: String) {
        root = "\(dataDirectory)/pods"
    }

    func directory(_ uid: String) -> String { "\(root)/\(uid)" }
    func volumesDirectory(_ uid: String) -> String { "\(root)/\(uid)/volumes" }
    func subPathsDirectory(_ uid: String) -> String { "\(root)/\(uid)/volume-subpaths" }
    func bundleDirectory(_ uid: String, containerID: String) -> String { "\(root)/\(uid)/containers/\(containerID)" }

    func logPath(_ uid: String, container: String, restartCount: Int) -> String {
        "\(root)/\(uid)/logs/\(container)/\(restartCount).log"
    }

    func loadAll() -> [PersistedPod] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return entries.compactMap { uid in
            guard let data = FileManager.default.contents(atPath: "\(root)/\(uid)/state.json") else { return nil }
            return try? JSONDecoder().decode(PersistedPod.self, from: data)
        }
    }

    /// Uids with a directory but no readable state: what a crash in the middle of set-up left.
    func strayDirectories(known: Set<String>) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return entries.filter { !known.contains($0) && !$0.hasPrefix(".") }
    }

    func save(_ pod: PersistedPod) throws {
        let directory = directory(pod.uid)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(to: "\(directory)/state.json", bytes: Array(try encoder.encode(pod)), permissions: PrivateDirectory.fileMode)
    }

    /// Removes everything of the pod: state, volumes, logs, bundles. Staged subPaths are
    /// unmounted first; while one stays mounted nothing is deleted (it would delete what it shows).
    func remove(_ uid: String) throws {
        guard !uid.isEmpty, !uid.contains("/"), uid != ".", uid != ".." else { return }
        let directory = directory(uid)
        let stillMounted = HostMounts.unmountAll(under: directory)
        guard stillMounted.isEmpty else { throw PodDirectoryBusyError(directory: directory, mountPoints: stillMounted) }
        if FileManager.default.fileExists(atPath: directory) { try FileManager.default.removeItem(atPath: directory) }
    }
}

/// A pod's directory still has mounts the agent could not undo; it is kept until they go.
struct PodDirectoryBusyError: Error, CustomStringConvertible {
    let directory: String
    let mountPoints: [String]
    var description: String {
        "cannot remove \(directory) while these stay mounted (unmount them, then the agent removes it): \(mountPoints.joined(separator: ", "))"
    }
}
