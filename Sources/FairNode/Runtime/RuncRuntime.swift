import FairArchive
import FairSupport
import FairRegistry
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs containers with runc. Each container gets an OCI bundle (config.json and generated /etc
/// files) in the directory the agent chose, and runs under a detached supervisor (see
/// `ContainerSupervisor`), so containers outlive the agent and a new agent process adopts them:
/// everything `state(id:)` needs is in files, found again through `DATA/runc-containers/<id>`.
public final class RuncRuntime: ContainerRuntime, @unchecked Sendable {
    public struct Options: Sendable {
        /// The runc executable: a name looked up on PATH (and /usr/sbin, /sbin), or a path.
        public var runc = "runc"
        /// The cgroup all of this node's containers go under; one per node, e.g. `/fair/node-1`.
        public var cgroupParent = "/fair"
        /// Size of the writable tmpfs mounted on /tmp when the pod mounts nothing there.
        public var tmpSizeBytes: Int64 = 1 << 30
        /// How long `start` waits for runc to report the container's process running.
        public var startTimeout: TimeInterval = 60
        /// A command that turns a container's output stream into CRI log lines, a line and its
        /// time each (`ContainerLogWriter.selfCommand`); nil keeps raw output without times.
        public var logWriter: [String]?

        public init() {}
    }

    public let dataDirectory: String
    public let images: ImageStore
    public let options: Options
    /// The runc binary in use and `runc --version`'s first line.
    public let runcPath: String
    public let runcVersion: String

    let runc: RuncCommand
    let stateRoot: String
    let index: ContainerIndex
    let configBuilder: RuntimeConfigBuilder
    let bootID: String

    private let lock = NSLock()
    /// Exited containers never change again: their state is answered from memory.
    private var finished: [String: ContainerState] = [:]
    private var bundles: [String: ContainerBundle] = [:]
    private var metadata: [String: ContainerMetadata] = [:]
    /// One start per id at a time; one exit record written per id.
    private let containerLocks = KeyedLock()
    private let finalizeLocks = KeyedLock()

    /// Checks that runc runs (`runc --version`) and prepares `DATA/runc` (runc's state) and
    /// `DATA/runc-containers` (bundle locations). `images` defaults to a store in the same
    /// data directory.
    public init(dataDirectory: String, images: ImageStore? = nil, options: Options = Options()) throws {
        self.dataDirectory = dataDirectory
        self.options = options
        self.images = try images ?? ImageStore(dataDirectory: dataDirectory)
        guard let path = RuncCommand.locate(options.runc) else {
            throw RuntimeError.runcUnavailable(path: options.runc, detail: "not found on PATH, /usr/sbin or /sbin")
        }
        let version = try RuncCommand(executable: path, stateRoot: nil).run(["--version"])
        guard version.status == 0, version.output.hasPrefix("runc version") else {
            throw RuntimeError.runcUnavailable(path: path, detail: "`runc --version` failed: \(version.message)")
        }
        runcPath = path
        runcVersion = String(version.output.split(separator: "\n").first ?? "")
        stateRoot = "\(dataDirectory)/runc"
        runc = RuncCommand(executable: path, stateRoot: stateRoot)
        index = ContainerIndex(directory: "\(dataDirectory)/runc-containers")
        configBuilder = RuntimeConfigBuilder(
            cgroupParent: options.cgroupParent, tmpSizeBytes: options.tmpSizeBytes,
            swapAccounting: CgroupMemoryEvents.swapAccounting, openFilesLimit: Self.openFilesLimit())
        bootID = Self.currentBootID()
        try PrivateDirectory.ensure(dataDirectory)
        try PrivateDirectory.ensure(stateRoot)
        try FileManager.default.createDirectory(atPath: index.directory, withIntermediateDirectories: true)
    }

    public func prepare(image reference: String, pullPolicy: String, credentials: PullCredentials) throws -> PreparedImage {
        try images.prepare(image: reference, pullPolicy: pullPolicy, credentials: credentials)
    }

    // MARK: - Start

    public func start(_ spec: ContainerSpec) throws {
        try Self.validate(id: spec.id)
        try containerLocks.withLock(spec.id) {
            if index.bundle(for: spec.id) != nil {
                switch state(id: spec.id) {
                case .running: return  // a retried start of a container that did start
                case .exited: throw RuntimeError.alreadyExists(id: spec.id)
                case .unknown: try remove(id: spec.id)
                }
            }
            let bundle: ContainerBundle
            do {
                bundle = try writeBundle(spec)
            } catch {
                // Not yet in the index, so nothing would ever remove it.
                try? FileManager.default.removeItem(atPath: spec.bundleDirectory)
                throw error
            }
            do {
                try ContainerSupervisor.launch(runc: runcPath, stateRoot: stateRoot, bundle: bundle, id: spec.id, logPath: spec.logPath,
                                              logWriter: options.logWriter)
            } catch {
                try? FileManager.default.removeItem(atPath: spec.bundleDirectory)
                throw error
            }
            // Only now, with the supervisor's pid on disk, may `state` look at the bundle: before,
            // a bundle without a live supervisor reads as a container that died.
            do {
                try index.add(spec.id, bundle: bundle.directory)
            } catch {
                _ = try? runc.run(["delete", "--force", spec.id])
                throw error
            }
            remember(spec.id, bundle: bundle, metadata: nil)
            try waitUntilRunning(spec.id, bundle: bundle)
        }
    }

    private func writeBundle(_ spec: ContainerSpec) throws -> ContainerBundle {
        let bundle = ContainerBundle(directory: spec.bundleDirectory)
        let files = FileManager.default
        // A bundle left from an earlier attempt with the same id would mix old exit files in.
        if files.fileExists(atPath: bundle.directory) { try files.removeItem(atPath: bundle.directory) }
        try files.createDirectory(atPath: bundle.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let logDirectory = URL(fileURLWithPath: spec.logPath).deletingLastPathComponent().path
        try files.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        try Self.createPrivateLog(spec.logPath)

        let user: ImageUser
        do {
            user = try ImageUser.resolve(spec.image.config["User"]?.stringValue ?? "", security: spec.security, rootfs: spec.image.rootfs)
        } catch {
            throw RuntimeError.invalidSpec(id: spec.id, detail: "\(error)")
        }
        // The agent refuses these before asking; checked again where the uid is final.
        if spec.security.runAsNonRoot && user.uid == 0 {
            throw RuntimeError.invalidSpec(id: spec.id, detail: "container has runAsNonRoot and image will run as root")
        }
        guard !spec.args.isEmpty else {
            throw RuntimeError.invalidSpec(id: spec.id, detail: "no command: neither the pod nor the image gives one")
        }
        try bundle.etc.write(hostname: spec.hostname, podIP: spec.podIP, fullyQualifiedName: spec.fullyQualifiedName,
                             resolvConf: spec.resolvConf)
        let config = try configBuilder.config(for: spec, user: user, etc: bundle.etc)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(to: bundle.config, bytes: Array(try encoder.encode(config)))
        let record = ContainerMetadata(id: spec.id, cgroupsPath: config.linux.cgroupsPath, bootID: bootID, logPath: spec.logPath)
        try BundleJSON.write(record, to: bundle.metadata)
        return bundle
    }

    /// Polls (briefly at first) until runc has written the container's pid, or the supervisor
    /// the exit status of a container that never started.
    private func waitUntilRunning(_ id: String, bundle: ContainerBundle) throws {
        let deadline = Date().addingTimeInterval(options.startTimeout)
        var pause: useconds_t = 2_000
        while true {
            if bundle.containerPID() != nil { return }
            if let status = bundle.exitStatus() {
                if bundle.containerPID() != nil { return }  // ran and exited already
                let reason = bundle.lastRuncError() ?? "runc exited with status \(status)"
                throw RuntimeError.startFailed(id: id, detail: reason)
            }
            if Date() > deadline {
                throw RuntimeError.startFailed(id: id, detail: "runc did not start the process within \(Int(options.startTimeout))s")
            }
            usleep(pause)
            pause = min(pause * 2, 50_000)
        }
    }

    // MARK: - State

    public func state(id: String) -> ContainerState {
        lock.lock()
        if let known = finished[id] {
            lock.unlock()
            return known
        }
        lock.unlock()
        guard let bundle = bundle(for: id) else { return .unknown }
        if let record = BundleJSON.read(ExitRecord.self, from: bundle.exitRecord) {
            return finish(id, record.state)
        }
        if bundle.exitStatus() != nil { return finalize(id, bundle: bundle) }
        guard let metadata = metadata(for: id, bundle: bundle) else { return .unknown }
        // After a reboot the recorded pids belong to other processes, if to any.
        if metadata.bootID != bootID { return finalize(id, bundle: bundle) }

        if let pid = bundle.containerPID(), Self.isAlive(pid) {
            return .running(startedAt: ContainerBundle.modificationDate(bundle.pid) ?? Date())
        }
        if let supervisor = bundle.supervisorProcessID(), Self.isAlive(supervisor) {
            // Starting, or exited a moment ago with the status about to be written.
            let started = ContainerBundle.modificationDate(bundle.pid) ?? ContainerBundle.modificationDate(bundle.metadata) ?? Date()
            return .running(startedAt: started)
        }
        return finalize(id, bundle: bundle)
    }

    /// Writes the exit record once: the status the supervisor wrote (or, when it is gone without
    /// writing one, 255), and OOMKilled when the kernel killed anything in the container's cgroup
    /// for memory. A process that never started is reported as exit code 128, as containerd does.
    private func finalize(_ id: String, bundle: ContainerBundle) -> ContainerState {
        finalizeLocks.withLock(id) {
            if let record = BundleJSON.read(ExitRecord.self, from: bundle.exitRecord) { return finish(id, record.state) }
            let started = ContainerBundle.modificationDate(bundle.pid)
            let status = bundle.exitStatus()
            var code = status ?? 255
            if started == nil { code = 128 }
            let cgroup = metadata(for: id, bundle: bundle)?.cgroupsPath
            let oomKilled = cgroup.map { CgroupMemoryEvents.oomKills(cgroupsPath: $0) > 0 } ?? false
            let reason = oomKilled ? "OOMKilled" : (code == 0 ? "Completed" : "Error")
            let finishedAt = status != nil ? ContainerBundle.modificationDate(bundle.exitCode) : nil
            let record = ExitRecord(code: code, reason: reason, startedAt: started,
                                    finishedAt: finishedAt ?? Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
            // Unwritable (bundle removed under us): still answer, just without a record.
            try? BundleJSON.write(record, to: bundle.exitRecord)
            return finish(id, record.state)
        }
    }

    private func finish(_ id: String, _ state: ContainerState) -> ContainerState {
        lock.lock()
        finished[id] = state
        lock.unlock()
        return state
    }

    // MARK: - Signal, remove, list

    public func signal(id: String, _ signal: Int32) throws {
        try Self.validate(id: id)
        guard case .running = state(id: id) else { return }
        let result = try runc.run(["kill", id, String(signal)])
        if result.status != 0 && !Self.isGone(result.message) {
            throw RuntimeError.runc(command: "runc kill \(id) \(signal)", status: result.status, output: result.message)
        }
    }

    public func remove(id: String) throws {
        try Self.validate(id: id)
        let result = try runc.run(["delete", "--force", id])
        if result.status != 0 && !Self.isGone(result.message) {
            throw RuntimeError.runc(command: "runc delete --force \(id)", status: result.status, output: result.message)
        }
        if let bundle = bundle(for: id) {
            waitForSupervisor(bundle)
            if FileManager.default.fileExists(atPath: bundle.directory) {
                do {
                    try FileManager.default.removeItem(atPath: bundle.directory)
                } catch {
                    throw RuntimeError.io(path: bundle.directory, operation: "remove the bundle", detail: "\(error)")
                }
            }
        }
        index.remove(id)
        lock.lock()
        finished[id] = nil
        bundles[id] = nil
        metadata[id] = nil
        lock.unlock()
    }

    public func containerIDs() throws -> [String] {
        let listed = try runc.check(["list", "--format", "json"])
        struct Entry: Decodable { var id: String }
        // runc prints `null` when it has no containers.
        let entries = (try? JSONDecoder().decode([Entry]?.self, from: Data(listed.output.utf8))) ?? nil
        return Array(Set((entries ?? []).map(\.id)).union(index.ids())).sorted()
    }

    /// After `runc delete`, the supervisor writes the exit status; the bundle goes once it has.
    private func waitForSupervisor(_ bundle: ContainerBundle) {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if bundle.exitStatus() != nil { return }
            guard let supervisor = bundle.supervisorProcessID(), Self.isAlive(supervisor) else { return }
            usleep(10_000)
        }
    }

    // MARK: - Helpers

    /// The bundle directory of container `id`, if this runtime has it.
    func containerBundleDirectory(_ id: String) -> String? { bundle(for: id)?.directory }

    private func bundle(for id: String) -> ContainerBundle? {
        lock.lock()
        if let known = bundles[id] {
            lock.unlock()
            return known
        }
        lock.unlock()
        guard let directory = index.bundle(for: id) else { return nil }
        let bundle = ContainerBundle(directory: directory)
        remember(id, bundle: bundle, metadata: nil)
        return bundle
    }

    private func metadata(for id: String, bundle: ContainerBundle) -> ContainerMetadata? {
        lock.lock()
        if let known = metadata[id] {
            lock.unlock()
            return known
        }
        lock.unlock()
        guard let read = BundleJSON.read(ContainerMetadata.self, from: bundle.metadata) else { return nil }
        remember(id, bundle: bundle, metadata: read)
        return read
    }

    private func remember(_ id: String, bundle: ContainerBundle, metadata read: ContainerMetadata?) {
        lock.lock()
        defer { lock.unlock() }
        if bundles[id]?.directory != bundle.directory {
            metadata[id] = nil
            finished[id] = nil
        }
        bundles[id] = bundle
        if let read { metadata[id] = read }
    }

    /// runc container ids: letters, digits and `_ + - .`, as runc accepts them (and as file
    /// names they cannot climb out of a directory).
    static func validate(id: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")
        guard !id.isEmpty, id.count <= 1024, id.allSatisfy({ allowed.contains($0) }), id != ".", id != ".." else {
            throw RuntimeError.invalidContainerID(id)
        }
    }

    /// runc's words for a container that is already stopped or no longer exists.
    static func isGone(_ message: String) -> Bool {
        message.contains("does not exist") || message.contains("not running") || message.contains("container not found")
            || message.contains("process already finished")
    }

    /// Whether `pid` is a live process. A zombie is not: it has exited and only waits for its
    /// parent (for an orphaned supervisor, whatever reaps orphans) to collect it.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let close = data.lastIndex(of: UInt8(ascii: ")")), close + 2 < data.count
        else { return true }
        let state = data[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    /// The log exists, mode 0600, before the supervisor's shell appends to it (which would
    /// create it world-readable under the usual umask).
    static func createPrivateLog(_ path: String) throws {
        let file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, PrivateDirectory.fileMode)
        guard file >= 0 else { throw RuntimeError.io(path: path, operation: "create the log", detail: String(cString: strerror(errno))) }
        defer { close(file) }
        guard fchmod(file, PrivateDirectory.fileMode) == 0 else {
            throw RuntimeError.io(path: path, operation: "make private (0600) the log", detail: String(cString: strerror(errno)))
        }
    }

    static func currentBootID() -> String {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
    }

    /// 1048576 open files, or the agent's own hard limit when that is lower: raising a limit
    /// above it needs CAP_SYS_RESOURCE, which a sandboxed agent may lack (runc then fails).
    static func openFilesLimit() -> UInt64 {
        var own = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &own) == 0 else { return 1_024 }
        return min(1_048_576, UInt64(own.rlim_max))
    }
}
