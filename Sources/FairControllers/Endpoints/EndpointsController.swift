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
            guard let selector = service.value(at: "spec.selector")?.objectValue, !selector.isEmpty else { continue }
            let wanted = selector.compactMapValues(\.stringValue)
            if labelSets.contains(where: { labels in wanted.allSatisfy { labels[$0.key] == $0.value } }) {
                enqueue(Informer.key(service))
            }
        }
    }

    /// Pods change often (conditions, container statuses); only some changes move an address.
    private static func mattersToEndpoints(_ old: JSONValue, _ new: JSONValue) -> Bool {
        old.labels != new.labels || old.isReadyPod != new.isReadyPod || old.isActivePod != new.isActivePod
            || old.value(at: "status.podIP") != new.value(at: "status.podIP")
            || old.value(at: "spec.nodeName") != new.value(at: "spec.nodeName")
            || old.value(at: "spec.containers") != new.value(at: "spec.containers")
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
        guard let selector = service.value(at: "spec.selector")?.objectValue, !selector.isEmpty else { return .done }
        let wanted = selector.compactMapValues(\.stringValue)
        let pods = informers.pods.list(namespace: namespace) { pod in
            let labels = pod.labels
            return wanted.allSatisfy { labels[$0.key] == $0.value }
        }
        let subsets = EndpointSubsets.build(service: service, pods: pods)
        var labels = service.value(at: "metadata.labels")?.objectValue ?? [:]
        if service.value(at: "spec.clusterIP")?.stringValue == "None" { labels["service.kubernetes.io/headless"] = "" }

        if let existing = informers.endpoints.get(key) {
            let existingSubsets = existing["subsets"]?.arrayValue ?? []
            let existingLabels = existing.value(at: "metadata.labels")?.objectValue ?? [:]
            guard existingSubsets != subsets || existingLabels != labels else { return .done }
            var updated = existing
            updated["subsets"] = subsets.isEmpty ? nil : .array(subsets)
            updated.set(labels.isEmpty ? nil : .object(labels), at: "metadata.labels")
            _ = try client.update(.endpoints, updated)
        } else {
            var endpoints: JSONValue = ["apiVersion": "v1", "kind": "Endpoints",
                                        "metadata": ["name": .string(name), "namespace": .string(namespace)]]
            if !labels.isEmpty { endpoints.set(.object(labels), at: "metadata.labels") }
            if !subsets.isEmpty { endpoints["subsets"] = .array(subsets) }
            _ = try client.create(.endpoints, namespace: namespace, endpoints)
        }
        return .done
    }
}
