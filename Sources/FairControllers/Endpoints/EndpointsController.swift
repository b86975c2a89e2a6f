import FairKube

/// core/v1 Endpoints: for every Service with a selector, an Endpoints object of the same name
/// listing the pods it selects (see `EndpointSubsets`). Written only when it would change, so
/// a pod's unrelated status updates cost no writes.
final class EndpointsController: QueuedController {
    override var name: String { "endpoints-controller" }

    private let client: KubeClient
    private let informers: SharedInformers

    init(_ context: ControllerContext) {
        client = context.client
        informers = context.informers
        super.init()
        informers.services.addHandler { [weak self] event in self?.enqueue(Informer.key(event.object)) }
        informers.endpoints.addHandler { [weak self] event in
            // Someone else edited or removed what we maintain: put it back.
            if case .added = event { return }
            self?.enqueue(Informer.key(event.object))
        }
        informers.pods.addHandler { [weak self] event in self?.podChanged(event) }
    }

    private func podChanged(_ event: InformerEvent) {
        var labelSets = [event.object.labels]
        if case let .updated(old, new) = event {
            guard Self.mattersToEndpoints(old, new) else { return }
            if old.labels != new.labels { labelSets.append(old.labels) }
        }
        for service in informers.services.list(namespace: event.object.namespace) {
            let wanted = Service(json: service).spec.selector
            guard !wanted.isEmpty else { continue }
            if labelSets.contains(where: { labels in wanted.allSatisfy { labels[$0.key] == $0.value } }) {
                enqueue(Informer.key(service))
            }
        }
    }

    /// Pods change often (conditions, container statuses); only some changes move an address.
    private static func mattersToEndpoints(_ old: JSONValue, _ new: JSONValue) -> Bool {
        old.labels != new.labels || old.isReadyPod != new.isReadyPod || old.isActivePod != new.isActivePod
            || Pod(json: old).status.podIP != Pod(json: new).status.podIP
            || Pod(json: old).spec.nodeName != Pod(json: new).spec.nodeName
            || Pod(json: old).spec.containers.map(\.json) != Pod(json: new).spec.containers.map(\.json)
    }

    override func sync(_ key: String) throws -> ReconcileResult {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return .done }
        let (namespace, name) = (parts[0], parts[1])
        guard let service = informers.services.get(key) else {
            // The Service is gone: so is what it published.
            if informers.endpoints.get(key) != nil {
                do { try client.delete(.endpoints, namespace: namespace, name: name) } catch let error as KubeError where error.isNotFound {}
            }
            return .done
        }
        // Without a selector the Endpoints are the user's to write.
        let typed = Service(json: service)
        let wanted = typed.spec.selector
        guard !wanted.isEmpty else { return .done }
        let pods = informers.pods.list(namespace: namespace) { pod in
            let labels = pod.labels
            return wanted.allSatisfy { labels[$0.key] == $0.value }
        }
        let subsets = EndpointSubsets.build(service: service, pods: pods)
        var labels = typed.metadata.labels
        if typed.spec.clusterIP == "None" { labels["service.kubernetes.io/headless"] = "" }

        if let existing = informers.endpoints.get(key) {
            let existingSubsets = existing["subsets"]?.arrayValue ?? []
            guard existingSubsets != subsets || existing.labels != labels else { return .done }
            var updated = existing
            updated["subsets"] = subsets.isEmpty ? nil : .array(subsets)
            var metadata = updated.metadata
            metadata.labels = labels
            updated["metadata"] = metadata.json
            _ = try client.update(.endpoints, updated)
        } else {
            var endpoints: JSONValue = ["apiVersion": "v1", "kind": "Endpoints",
                                        "metadata": ["name": .string(name), "namespace": .string(namespace)]]
            if !labels.isEmpty { endpoints["metadata"] = { var metadata = endpoints.metadata; metadata.labels = labels; return metadata.json }() }
            if !subsets.isEmpty { endpoints["subsets"] = .array(subsets) }
            _ = try client.create(.endpoints, namespace: namespace, endpoints)
        }
        return .done
    }
}
