import FairHTTP
import FairKube
import Foundation

/// metrics.k8s.io/v1beta1 as metrics-server serves it: NodeMetrics and PodMetrics made on each
/// request from the node agents' usage summaries (kubelet's `/stats/summary`), asked of the
/// nodes concerned in parallel, over the same pinned TLS hop as logs. Objects are selected by
/// the labels and names of the stored Nodes and Pods; a node that does not answer in time is
/// left out, as metrics-server leaves out a kubelet it could not scrape (kubectl then prints
/// `<unknown>` for it).
struct ResourceMetrics: Sendable {
    let store: ObjectStore
    let credential: NodeClientCredential?

    /// How long a node's summary may take.
    static let nodeTimeout: Double = 5
    /// The largest summary taken from a node.
    static let summaryLimit = 8 << 20

    func answer(_ path: ResourcePath, labels: LabelSelector, fields: FieldSelector?) async throws -> JSONValue {
        if path.definition == .nodeMetrics { return try await nodes(path, labels: labels, fields: fields) }
        return try await pods(path, labels: labels, fields: fields)
    }

    private func nodes(_ path: ResourcePath, labels: LabelSelector, fields: FieldSelector?) async throws -> JSONValue {
        let nodes: [JSONValue]
        if let name = path.name {
            guard let node = store.get(KindDefinition.node.storageKey, namespace: "", name: name)?.object else {
                throw APIError.notFound(.node, name)
            }
            nodes = [node]
        } else {
            nodes = store.list(KindDefinition.node.storageKey, namespace: "").items.map(\.object)
                .filter { labels.matches($0.labels) && (fields?.matches($0) ?? true) }
        }
        let summaries = await self.summaries(of: nodes.compactMap(\.name))
        var items: [JSONValue] = []
        for node in nodes {
            guard let name = node.name, let usage = summaries[name]?["node"], let item = Self.nodeMetrics(node, usage: usage) else { continue }
            items.append(item)
        }
        if let name = path.name {
            guard let item = items.first else { throw Self.noMetrics("nodemetrics", name) }
            return item
        }
        return Self.list("NodeMetricsList", items)
    }

    private func pods(_ path: ResourcePath, labels: LabelSelector, fields: FieldSelector?) async throws -> JSONValue {
        let pods: [JSONValue]
        let namespace = path.namespace ?? ""
        if let name = path.name {
            guard let pod = store.get(KindDefinition.pod.storageKey, namespace: namespace, name: name)?.object else {
                throw APIError.notFound(.pod, name)
            }
            pods = [pod]
        } else {
            pods = store.list(KindDefinition.pod.storageKey, namespace: path.namespace).items.map(\.object)
                .filter { labels.matches($0.labels) && (fields?.matches($0) ?? true) }
        }
        let nodeNames = Set(pods.compactMap { $0.value(at: "spec.nodeName")?.stringValue }.filter { !$0.isEmpty })
        let summaries = await self.summaries(of: Array(nodeNames))
        // Each node's pods by uid: a pod deleted and made again under its name is another pod.
        var usageByUID: [String: JSONValue] = [:]
        for summary in summaries.values {
            for pod in summary["pods"]?.arrayValue ?? [] {
                if let uid = pod.value(at: "podRef.uid")?.stringValue { usageByUID[uid] = pod }
            }
        }
        let items = pods.compactMap { pod in pod.uid.flatMap { usageByUID[$0] }.flatMap { Self.podMetrics(pod, usage: $0) } }
        if let name = path.name {
            guard let item = items.first else { throw Self.noMetrics("podmetrics", "\(namespace)/\(name)") }
            return item
        }
        return Self.list("PodMetricsList", items)
    }

    /// Each named node's summary, asked of all at once; nodes that cannot be asked or do not
    /// answer in time are missing.
    private func summaries(of nodeNames: [String]) async -> [String: JSONValue] {
        guard let credential, !nodeNames.isEmpty else { return [:] }
        let endpoints = nodeNames.compactMap { try? NodeEndpoint.resolve(store: store, nodeName: $0, credential: credential, serving: "metrics") }
        return await withTaskGroup(of: (String, JSONValue?).self) { group in
            for endpoint in endpoints {
                group.addTask { (endpoint.name, await Self.summary(of: endpoint, credential: credential)) }
            }
            var summaries: [String: JSONValue] = [:]
            for await (name, summary) in group {
                if let summary { summaries[name] = summary }
            }
            return summaries
        }
    }

    private static func summary(of endpoint: NodeEndpoint, credential: NodeClientCredential) async -> JSONValue? {
        guard let url = endpoint.url(scheme: "https", path: ["stats", "summary"], query: []) else { return nil }
        let client = endpoint.client(credential: credential, connectTimeout: nodeTimeout, stallTimeout: nodeTimeout)
        // libcurl blocks: off the async pool.
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let response = try? client.send(HTTPRequest(method: "GET", url: url), maxBodyBytes: summaryLimit)
                guard let response, response.status == 200 else { return continuation.resume(returning: nil) }
                continuation.resume(returning: try? JSONCoding.decode(Data(response.body)))
            }
        }
    }

    /// metrics-server's answer for an object that exists but has no metrics (yet).
    private static func noMetrics(_ resource: String, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(resource).metrics.k8s.io \"\(name)\" not found",
                 details: .init(name: name, group: "metrics.k8s.io", kind: resource))
    }

    private static func list(_ kind: String, _ items: [JSONValue]) -> JSONValue {
        ["kind": .string(kind), "apiVersion": "metrics.k8s.io/v1beta1", "metadata": [:], "items": .array(items)]
    }

    /// metrics-server's metadata: the object's name (and namespace), its labels, made now.
    private static func metadata(of object: JSONValue) -> JSONValue {
        var metadata: JSONValue = ["name": .string(object.name ?? ""), "creationTimestamp": .string(KubeTime.now())]
        if let namespace = object.namespace, !namespace.isEmpty { metadata["namespace"] = .string(namespace) }
        if let labels = object.value(at: "metadata.labels") { metadata["labels"] = labels }
        return metadata
    }

    static func nodeMetrics(_ node: JSONValue, usage: JSONValue) -> JSONValue? {
        guard let (quantities, time, window) = Self.usage(usage) else { return nil }
        return ["kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": metadata(of: node),
                "timestamp": .string(time), "window": .string(window), "usage": quantities]
    }

    /// Every container of the pod that runs has usage, or the pod is left out (metrics-server
    /// lists a pod only once all its containers have two readings).
    static func podMetrics(_ pod: JSONValue, usage: JSONValue) -> JSONValue? {
        let reported = usage["containers"]?.arrayValue ?? []
        var containers: [JSONValue] = []
        var earliest: (time: String, window: String)?
        for container in reported {
            guard let name = container["name"]?.stringValue, let (quantities, time, window) = Self.usage(container) else { return nil }
            containers.append(["name": .string(name), "usage": quantities])
            // The earliest container's reading stands for the pod, as metrics-server's does.
            if earliest == nil || time < earliest!.time { earliest = (time, window) }
        }
        let running = (pod.value(at: "status.containerStatuses")?.arrayValue ?? []).filter { $0.value(at: "state.running") != nil }.count
        guard let earliest, !containers.isEmpty, containers.count >= running else { return nil }
        return ["kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": metadata(of: pod),
                "timestamp": .string(earliest.time), "window": .string(earliest.window), "containers": .array(containers)]
    }

    /// `{"cpu": "…n", "memory": "…Ki"}`, the time and the window of a summary entry's cpu and
    /// memory; nil when either is missing.
    private static func usage(_ entry: JSONValue) -> (JSONValue, String, String)? {
        guard let nanoCores = entry.value(at: "cpu.usageNanoCores")?.intValue,
              let bytes = entry.value(at: "memory.workingSetBytes")?.intValue,
              let time = entry.value(at: "cpu.time")?.stringValue else { return nil }
        let window = entry.value(at: "cpu.window")?.stringValue ?? "0s"
        return (["cpu": .string(MetricsQuantity.cpu(nanoCores: nanoCores)), "memory": .string(MetricsQuantity.memory(bytes: bytes))],
                time, window)
    }
}
