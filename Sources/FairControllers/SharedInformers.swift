import Foundation
import FairKube
import FairSupport

/// One informer per resource, shared by every controller that reads it: one list and one watch
/// per kind, however many controllers look.
final class SharedInformers: @unchecked Sendable {
    let pods: Informer
    let jobs: Informer
    let cronJobs: Informer
    let replicaSets: Informer
    let deployments: Informer
    let statefulSets: Informer
    let daemonSets: Informer
    let services: Informer
    let endpoints: Informer
    let nodes: Informer
    let namespaces: Informer
    let serviceAccounts: Informer
    let persistentVolumeClaims: Informer
    let persistentVolumes: Informer
    let storageClasses: Informer
    let certificateSigningRequests: Informer
    /// Only the ConfigMaps named `kube-root-ca.crt`: what the root CA publisher keeps. A partial
    /// cache, so never handed out by `informer(for:)`.
    let rootCAConfigMaps: Informer

    init(client: KubeClient) {
        pods = Informer(client: client, resource: .pods)
        jobs = Informer(client: client, resource: .jobs)
        cronJobs = Informer(client: client, resource: .cronJobs)
        replicaSets = Informer(client: client, resource: .replicaSets)
        deployments = Informer(client: client, resource: .deployments)
        statefulSets = Informer(client: client, resource: .statefulSets)
        daemonSets = Informer(client: client, resource: .daemonSets)
        services = Informer(client: client, resource: .services)
        endpoints = Informer(client: client, resource: .endpoints)
        nodes = Informer(client: client, resource: .nodes)
        namespaces = Informer(client: client, resource: .namespaces)
        serviceAccounts = Informer(client: client, resource: .serviceAccounts)
        persistentVolumeClaims = Informer(client: client, resource: .persistentVolumeClaims)
        persistentVolumes = Informer(client: client, resource: .persistentVolumes)
        storageClasses = Informer(client: client, resource: .storageClasses)
        certificateSigningRequests = Informer(client: client, resource: .certificateSigningRequests)
        rootCAConfigMaps = Informer(client: client, resource: .configMaps, fieldSelector: "metadata.name=\(RootCAPublisher.configMapName)")
    }

    /// Informers that hold every object of their kind.
    private var complete: [Informer] {
        [pods, jobs, cronJobs, replicaSets, deployments, statefulSets, daemonSets, services, endpoints, nodes, namespaces, serviceAccounts,
         persistentVolumeClaims, persistentVolumes, storageClasses, certificateSigningRequests]
    }
    var all: [Informer] { complete + [rootCAConfigMaps] }

    /// The informer that caches objects of `resource`; nil for a kind no controller caches
    /// (the caller then asks the API), never another kind's cache.
    func informer(for resource: APIResource) -> Informer? {
        complete.first { $0.resource == resource }
    }
}

/// What every controller is built from.
struct ControllerContext {
    let client: KubeClient
    let informers: SharedInformers
    let options: ControllerOptions
    let log: @Sendable (String) -> Void
    /// Every recorder handed out, so that the manager's stop stops them too.
    let recorders = EventRecorders()

    var clock: WallClock { options.clock }

    /// Events from `component`, written on the shared pool at this context's time.
    func events(_ component: String) -> EventRecorder {
        recorders.add(EventRecorder(client: client, component: component, clock: clock, log: log))
    }
}

/// The event recorders of one controller manager.
final class EventRecorders: @unchecked Sendable {
    private let lock = NSLock()
    private var recorders: [EventRecorder] = []

    func add(_ recorder: EventRecorder) -> EventRecorder {
        lock.withLock { recorders.append(recorder) }
        return recorder
    }

    func stopAll() {
        for recorder in lock.withLock({ recorders }) { recorder.stop() }
    }
}
