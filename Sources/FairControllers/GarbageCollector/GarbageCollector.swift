import FairKube

/// Deletes pods, ReplicaSets and Jobs whose owners are all gone (the API server cascades a
/// delete at once; this catches what it could not, e.g. an owner removed while a dependent was
/// being created, or data restored without its owners), and drops references to owners that
/// are gone from dependents that still have a live one.
///
/// An owner counts as gone only when it is of a kind this controller watches, its synced
/// informer does not hold it (with that uid), and a direct GET answers 404 or another uid.
/// Owners of any other kind are assumed to exist.
final class GarbageCollector: QueuedController {
    override var name: String { "garbage-collector" }

    /// The dependents this collector looks after, by the prefix of their queue keys.
    private static let dependents: [(prefix: String, resource: APIResource)] = [
        (APIResource.pods.plural, .pods), (APIResource.replicaSets.plural, .replicaSets), (APIResource.jobs.plural, .jobs),
    ]

    private let client: KubeClient
    private let informers: SharedInformers

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        super.init()
        informers.pods.addHandler { [weak self] event in self?.dependentChanged(APIResource.pods.plural, event) }
        informers.replicaSets.addHandler { [weak self] event in
            self?.dependentChanged(APIResource.replicaSets.plural, event)
            self?.ownerChanged(event)
        }
        informers.jobs.addHandler { [weak self] event in
            self?.dependentChanged(APIResource.jobs.plural, event)
            self?.ownerChanged(event)
        }
        informers.deployments.addHandler { [weak self] event in self?.ownerChanged(event) }
        informers.cronJobs.addHandler { [weak self] event in self?.ownerChanged(event) }
        informers.statefulSets.addHandler { [weak self] event in self?.ownerChanged(event) }
        informers.daemonSets.addHandler { [weak self] event in self?.ownerChanged(event) }
    }

    private func dependentChanged(_ prefix: String, _ event: InformerEvent) {
        if case .deleted = event { return }
        if case let .updated(old, new) = event, old.ownerReferences == new.ownerReferences { return }
        guard !event.object.ownerReferences.isEmpty else { return }
        enqueue("\(prefix):\(Informer.key(event.object))")
    }

    /// An owner went: look at everything that named it.
    private func ownerChanged(_ event: InformerEvent) {
        guard case let .deleted(owner) = event, let uid = owner.uid else { return }
        for (prefix, resource) in Self.dependents {
            guard let informer = informers.informer(for: resource) else { continue }
            for dependent in informer.list(namespace: owner.namespace, where: { object in
                object.metadata.ownerReferences.contains { $0.uid == uid }
            }) {
                enqueue("\(prefix):\(Informer.key(dependent))")
            }
        }
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        guard let colon = key.firstIndex(of: ":"),
              let resource = Self.dependents.first(where: { $0.prefix == key[..<colon] })?.resource else { return .done }
        let objectKey = String(key[key.index(after: colon)...])
        guard let object = informers.informer(for: resource)?.get(objectKey), let name = object.name else { return .done }
        let references = object.metadata.ownerReferences
        guard !references.isEmpty else { return .done }

        var absent: Set<String> = []
        for reference in references {
            if try isAbsent(reference, namespace: object.namespace), let uid = reference.uid { absent.insert(uid) }
        }
        guard !absent.isEmpty else { return .done }
        do {
            if absent.count == references.count {
                try client.delete(resource, namespace: object.namespace, name: name, propagation: "Background",
                                  preconditionUID: object.uid)
            } else {
                let remaining = references.filter { !absent.contains($0.uid ?? "") }
                _ = try client.mergePatch(resource, namespace: object.namespace, name: name,
                                          ["metadata": ["ownerReferences": .array(remaining.map(\.json)),
                                                        "resourceVersion": .string(object.resourceVersion ?? "")]])
            }
        } catch let error as KubeError where error.isNotFound {}
        return .done
    }

    private func isAbsent(_ reference: OwnerReference, namespace: String?) throws -> Bool {
        guard let kind = OwnerKind.find(apiVersion: reference.apiVersion, kind: reference.kind),
              let name = reference.name, let uid = reference.uid else { return false }
        guard let cache = informers.informer(for: kind.resource), cache.hasSynced else { return false }
        if cache.get(namespace: namespace, name: name)?.uid == uid { return false }
        do {
            return try client.get(kind.resource, namespace: namespace, name: name).uid != uid
        } catch let error as KubeError where error.isNotFound {
            return true
        }
    }
}
