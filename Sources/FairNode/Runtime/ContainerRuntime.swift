import FairKube
import FairRegistry
import Foundation

/// An image made ready to run on this node: unpacked once into a read-only root filesystem that
/// every container of that image shares.
public struct PreparedImage: Sendable {
    /// What the pod asked for, e.g. `127.0.0.1:5000/team/trainer:v1`.
    public var reference: String
    /// `sha256:…` of the manifest, reported as the container's imageID.
    public var digest: String
    /// The unpacked root filesystem (never written by containers).
    public var rootfs: String
    /// The image config's `config` object: Entrypoint, Cmd, Env, WorkingDir, User.
    public var config: JSONValue
    /// The registry (or mirror) it was just pulled from; nil when the node already had it.
    public var pulledFrom: String?

    public init(reference: String, digest: String, rootfs: String, config: JSONValue) {
        self.reference = reference
        self.digest = digest
        self.rootfs = rootfs
        self.config = config
    }
}

/// A host directory mounted into a container (emptyDir, hostPath, the pod's /tmp).
public struct ContainerMount: Sendable, Hashable {
    public var source: String
    public var destination: String
    public var readOnly: Bool

    public init(source: String, destination: String, readOnly: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }
}

/// Everything a runtime needs to start one container of a pod, already resolved by the node
/// agent (args merged with the image's Entrypoint/Cmd, env merged, volumes made).
public struct ContainerSpec: Sendable {
    /// Unique on the node and stable across agent restarts: "<pod uid>-<container name>-<restart count>".
    public var id: String
    public var podUID: String
    public var podNamespace: String
    public var podName: String
    public var containerName: String
    public var image: PreparedImage
    public var args: [String]
    public var env: [String]
    public var workingDirectory: String
    public var mounts: [ContainerMount]
    /// Limits; nil means none.
    public var cpuMilli: Int64?
    public var memoryBytes: Int64?
    /// The pod's loopback address (pods share the host's network namespace).
    public var podIP: String
    public var hostname: String
    /// `HOSTNAME.SUBDOMAIN.NS.svc.DOMAIN`, for /etc/hosts, when the pod set a `subdomain`.
    public var fullyQualifiedName: String?
    /// The pod's /etc/resolv.conf (see `PodDNS`); nil: the host's as it is.
    public var resolvConf: String?
    /// stdout and stderr go here, appended.
    public var logPath: String
    /// Where the runtime may keep this container's bundle and state.
    public var bundleDirectory: String
    public var security: ContainerSecurity
    /// The CDI devices this container was given (see `DeviceAllocations`), applied to its config.
    public var devices: [CDIRegistry.ResolvedDevice] = []

    public init(id: String, podUID: String, podNamespace: String, podName: String, containerName: String, image: PreparedImage,
                args: [String], env: [String], workingDirectory: String, mounts: [ContainerMount], cpuMilli: Int64?,
                memoryBytes: Int64?, podIP: String, hostname: String, logPath: String, bundleDirectory: String,
                security: ContainerSecurity = ContainerSecurity()) {
        self.id = id
        self.podUID = podUID
        self.podNamespace = podNamespace
        self.podName = podName
        self.containerName = containerName
        self.image = image
        self.args = args
        self.env = env
        self.workingDirectory = workingDirectory
        self.mounts = mounts
        self.cpuMilli = cpuMilli
        self.memoryBytes = memoryBytes
        self.podIP = podIP
        self.hostname = hostname
        self.logPath = logPath
        self.bundleDirectory = bundleDirectory
        self.security = security
    }
}

/// What a runtime knows about one container.
public enum ContainerState: Sendable, Equatable {
    case running(startedAt: Date)
    /// `reason` is "Completed", "Error" or "OOMKilled", as Kubernetes reports it.
    case exited(code: Int32, reason: String, startedAt: Date?, finishedAt: Date)
    case unknown
}

/// How the node agent runs containers: `runc` for real work, `fake` only for scheduling
/// benchmarks (like kubemark's hollow nodes).
public protocol ContainerRuntime: AnyObject, Sendable {
    /// Pulls (per `pullPolicy`: Always, IfNotPresent, Never) and unpacks `reference`. One pull per
    /// image at a time; concurrent callers for the same image wait for the first.
    /// `credentials` are the pod's own (its `imagePullSecrets`), tried before the node's.
    func prepare(image reference: String, pullPolicy: String, credentials: PullCredentials) throws -> PreparedImage
    /// Starts the container and returns once its process runs.
    func start(_ spec: ContainerSpec) throws
    func state(id: String) -> ContainerState
    /// Sends `signal` to the container's processes (SIGTERM for graceful stops, SIGKILL after).
    func signal(id: String, _ signal: Int32) throws
    /// Removes a stopped container and its bundle; unknown ids are ignored.
    func remove(id: String) throws
    /// Ids of every container this runtime has on the node (running or not), to adopt or clean
    /// up after an agent restart.
    func containerIDs() throws -> [String]
}

extension ContainerRuntime {
    /// With the node's credentials only.
    public func prepare(image reference: String, pullPolicy: String) throws -> PreparedImage {
        try prepare(image: reference, pullPolicy: pullPolicy, credentials: .none)
    }
}
