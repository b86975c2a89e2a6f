import FairKube
import FairSupport
import FairTLS
import Foundation

/// Tuning of the controllers; the defaults are kube-controller-manager's.
public struct ControllerOptions: Sendable {
    /// A Node is marked NotReady (Ready=Unknown) after this long without a heartbeat.
    public var nodeMonitorGracePeriod: TimeInterval = 40
    /// How often every Node's heartbeat is checked.
    public var nodeMonitorPeriod: TimeInterval = 5
    /// The delay before a Job replaces a failed pod: doubled for each failure since the last
    /// success, up to `jobBackoffMax`.
    public var jobBackoffBase: TimeInterval = 10
    public var jobBackoffMax: TimeInterval = 360
    /// Where the `local` StorageClass's provisioner makes volumes (a directory of this machine,
    /// where the server's nodes run); nil runs no provisioner.
    public var localVolumeDirectory: String?
    /// The zone of CronJob schedules that name no `timeZone`: the machine's, as
    /// kube-controller-manager reads them in its own local zone.
    public var cronJobTimeZone: TimeZone = .current
    /// The cluster's root, which signs approved requests for client certificates (nodes'
    /// among them); nil signs none.
    public var clusterSigner: CertificateAuthority?
    /// The time controllers read and their delays run on; tests move a `ManualClock` by hand.
    public var clock: WallClock = SystemClock.shared
    /// Where controllers report errors they retry.
    public var log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init() {}
}

/// Runs every controller of the bundled control plane over shared informers: Job, CronJob,
/// ReplicaSet, Deployment, StatefulSet, DaemonSet, Endpoints, garbage collection, node lifecycle,
/// finished-Job TTLs, the namespaces' default ServiceAccounts and root CA, and volumes (binding, the local
/// provisioner, reclaiming, protection of what is in use), and certificate requests (approving
/// nodes' own, signing approved ones). Each talks to the API server
/// only through `KubeClient`, so the manager runs in `fair server` or as a process of its own.
public final class ControllerManager: @unchecked Sendable {
    private let informers: SharedInformers
    private let loops: [ReconcileLoop]
    private let controllers: [QueuedController]
    private let recorders: EventRecorders
    private let lock = NSLock()
    private var started = false
    private var stopped = false

    public init(client: KubeClient, options: ControllerOptions = .init()) {
        informers = SharedInformers(client: client)
        let context = ControllerContext(client: client, informers: informers, options: options, log: options.log)
        recorders = context.recorders
        // Handlers are added here, before any informer starts, so no event is missed.
        let jobs = JobController(context)
        let cronJobs = CronJobController(context)
        let replicaSets = ReplicaSetController(context)
        let deployments = DeploymentController(context)
        let statefulSets = StatefulSetController(context)
        let daemonSets = DaemonSetController(context)
        let endpoints = EndpointsController(context)
        let garbage = GarbageCollector(context)
        let nodes = NodeLifecycleController(context)
        let finishedJobs = TTLAfterFinishedController(context)
        let serviceAccounts = ServiceAccountsController(context)
        let rootCA = RootCAPublisher(context)
        let volumeDirectory = options.localVolumeDirectory.map { LocalVolumeDirectory(root: $0) }
        // One binder worker: two claims must not be matched against the same free volume at once.
        var controllers: [(QueuedController, Int)] = [
            (jobs, 2), (cronJobs, 1), (replicaSets, 2), (deployments, 2), (statefulSets, 2), (daemonSets, 2), (endpoints, 2),
            (garbage, 1), (nodes, 1), (finishedJobs, 1), (serviceAccounts, 1), (rootCA, 1), (ClaimBinder(context), 1),
            (VolumeReclaimer(context, directory: volumeDirectory), 1), (StorageProtection(context), 1),
        ]
        if let volumeDirectory { controllers.append((LocalVolumeProvisioner(context, directory: volumeDirectory), 1)) }
        controllers.append((CertificateApprover(context), 1))
        if let signer = options.clusterSigner { controllers.append((CertificateSigner(context, authority: signer), 1)) }
        loops = controllers.map { controller, workers in
            let loop = ReconcileLoop(controller, workers: workers, clock: options.clock, log: options.log)
            controller.queue = loop.queue
            return loop
        }
        self.controllers = controllers.map(\.0)
    }

    /// Starts the informers and, once each has its first list, the controllers' workers.
    /// Returns at once.
    public func start() {
        lock.lock()
        guard !started, !stopped else { lock.unlock(); return }
        started = true
        lock.unlock()
        for informer in informers.all { informer.start() }
        let thread = Thread { [self] in
            // A controller acting on a half-filled cache would see missing objects as gone.
            for informer in informers.all {
                while !informer.waitUntilSynced(timeout: 1) {
                    if isStopped { return }
                }
            }
            lock.lock(); defer { lock.unlock() }
            guard !stopped else { return }
            for loop in loops { loop.start() }
        }
        thread.name = "controller-manager start"
        thread.start()
    }

    /// Stops the workers (each after the reconcile it is running; keys still queued are
    /// dropped) and the informers (at their watch's next event or bookmark, or when the
    /// connection ends).
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        for controller in controllers { controller.stop() }
        for loop in loops { loop.stop() }
        for informer in informers.all { informer.stop() }
        recorders.stopAll()
    }

    /// How many keys wait in each controller's queue (for `/metrics`).
    public var queueDepths: [(queue: String, depth: Int)] {
        zip(controllers, loops).map { ($0.name, $1.queue.depth) }
    }

    /// Whether every controller's queue is empty and no reconcile runs (tests wait for this
    /// before moving a manual clock on).
    public var isIdle: Bool {
        loops.allSatisfy { $0.queue.isIdle }
    }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }
}
