import FairKube
import Foundation

/// The `kubernetes` Service of the `default` namespace, which kube-apiserver keeps itself: the
/// first address of the service range, port 443 (`https`), and an Endpoints object naming the
/// API server's own address, so a pod reaches the API as `kubernetes.default.svc` as on any
/// cluster.
extension APIServer {
    public func publishKubernetesService(host: String, port: Int) throws {
        guard let range = serviceIPRange else { return }
        let service = KindDefinition.service, endpoints = KindDefinition.endpoints
        let labels: JSONValue = ["component": "apiserver", "provider": "kubernetes"]
        try serviceIPLock.withLock {
            guard store.get(service.storageKey, namespace: "default", name: "kubernetes") == nil else { return }
            let used = store.list(service.storageKey, namespace: nil).items.contains {
                $0.object.value(at: "spec.clusterIP")?.stringValue == range.address(1)
            }
            var object: JSONValue = [
                "apiVersion": "v1", "kind": "Service",
                "metadata": ["name": "kubernetes", "namespace": "default", "labels": labels],
                "spec": [
                    "type": "ClusterIP", "sessionAffinity": "None",
                    "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(port))]],
                ],
            ]
            if !used { object.set(.string(range.address(1)), at: "spec.clusterIP") }
            Admission.prepareNew(&object, service, namespace: "default")
            try ServiceIPAllocation.admitCreate(&object, range: range, store: store)
            try store.write(service.storageKey, namespace: "default", name: "kubernetes") { existing in existing?.object ?? object }
        }
        let wanted: JSONValue = [["addresses": [["ip": .string(host)]], "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]]]]
        do {
            try writeKubernetesEndpoints(wanted, labels: labels)
        } catch is KubernetesServiceUnchanged {
            // Already where the API server is.
        }
    }

    private func writeKubernetesEndpoints(_ wanted: JSONValue, labels: JSONValue) throws {
        let endpoints = KindDefinition.endpoints
        try store.write(endpoints.storageKey, namespace: "default", name: "kubernetes") { existing in
            if var current = existing?.object {
                guard current["subsets"] != wanted else { throw KubernetesServiceUnchanged() }
                current["subsets"] = wanted
                return current
            }
            var object: JSONValue = ["apiVersion": "v1", "kind": "Endpoints",
                                     "metadata": ["name": "kubernetes", "namespace": "default", "labels": labels], "subsets": wanted]
            Admission.prepareNew(&object, endpoints, namespace: "default")
            return object
        }
    }
}

private struct KubernetesServiceUnchanged: Error {}
