import FairKube
import Foundation

/// Keeps the endpoint table current from the API server, as kube-proxy does from another
/// process: informers on Services and Endpoints, every change recomputing that one Service's
/// route from both caches. A change reaches the table as soon as its watch event arrives, and
/// then `changed` with that Service's new route (nil once it is gone).
final class EndpointInformers: @unchecked Sendable {
    private let services: Informer
    private let endpoints: Informer
    private let table: EndpointTable
    private let changed: (_ namespace: String, _ name: String, _ route: ServiceRoute?) -> Void
    /// Serialises recomputations: the two informers run on threads of their own, and a route
    /// computed from an older view must not land after one computed from a newer view.
    private let lock = NSLock()

    init(client: KubeClient, table: EndpointTable,
         changed: @escaping (_ namespace: String, _ name: String, _ route: ServiceRoute?) -> Void) {
        services = Informer(client: client, resource: .services)
        endpoints = Informer(client: client, resource: .endpoints)
        self.table = table
        self.changed = changed
        services.addHandler { [weak self] event in self?.refresh(event.object) }
        endpoints.addHandler { [weak self] event in self?.refresh(event.object) }
    }

    func start() {
        services.start()
        endpoints.start()
    }

    func stop() {
        services.stop()
        endpoints.stop()
    }

    @discardableResult
    func waitUntilSynced(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return services.waitUntilSynced(timeout: timeout) && endpoints.waitUntilSynced(timeout: max(0, deadline.timeIntervalSinceNow))
    }

    private func refresh(_ object: JSONValue) {
        guard let namespace = object.namespace, let name = object.name else { return }
        lock.lock()
        defer { lock.unlock() }
        let route = table.update(namespace: namespace, name: name,
                                 service: services.get(namespace: namespace, name: name),
                                 endpoints: endpoints.get(namespace: namespace, name: name))
        changed(namespace, name, route)
    }
}
