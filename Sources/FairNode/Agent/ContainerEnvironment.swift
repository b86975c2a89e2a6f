import FairKube
import Foundation

/// A pod that cannot be turned into a container as written (a bad env reference, an unknown
/// volume type). Reported as the container's waiting reason `CreateContainerConfigError`.
struct ContainerConfigError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The environment of one container, in Kubernetes' order: the image's Env, then POD_NAME,
/// POD_NAMESPACE and POD_IP (so a pod can still set its own), then `envFrom`, then `env` with
/// values, `fieldRef`s, `resourceFieldRef`s, `configMapKeyRef`s and `secretKeyRef`s. Later names
/// replace earlier ones in place.
struct ContainerEnvironment {
    var pod: JSONValue
    var container: JSONValue
    var imageEnv: [String]
    var podIP: String
    var nodeName: String
    /// Node allocatable, which a `resourceFieldRef` to an unset limit reports (as Kubernetes does).
    var allocatable: [String: Quantity]
    /// The keys of the pod's ConfigMaps and Secrets.
    var sources: ConfigSources
    /// Where the API server is, for the `kubernetes` service's variables (KUBERNETES_SERVICE_HOST,
    /// …) that in-cluster clients read; pods share the host's network, so it is the node's own
    /// way to the API server.
    var apiServer: (host: String, port: Int)?
    /// The Services of the pod's namespace, for their variables (`ServiceEnvironment`); empty
    /// when the pod set `enableServiceLinks: false`.
    var services: [JSONValue] = []

    private(set) var names: [String] = []
    private(set) var values: [String: String] = [:]

    init(pod: JSONValue, container: JSONValue, imageEnv: [String], podIP: String, nodeName: String,
         allocatable: [String: Quantity], sources: ConfigSources) {
        self.pod = pod
        self.container = container
        self.imageEnv = imageEnv
        self.podIP = podIP
        self.nodeName = nodeName
        self.allocatable = allocatable
        self.sources = sources
    }

    var containerName: String { Container(json: container).name ?? "" }

    /// "NAME=value" entries for the runtime.
    mutating func resolve() throws -> [String] {
        for entry in imageEnv {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            set(String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        if let apiServer {
            // As kubelet sets them for the `kubernetes` service of the default namespace.
            let host = apiServer.host, port = String(apiServer.port)
            set("KUBERNETES_SERVICE_HOST", host)
            set("KUBERNETES_SERVICE_PORT", port)
            set("KUBERNETES_SERVICE_PORT_HTTPS", port)
            set("KUBERNETES_PORT", "tcp://\(host):\(port)")
            set("KUBERNETES_PORT_\(port)_TCP", "tcp://\(host):\(port)")
            set("KUBERNETES_PORT_\(port)_TCP_PROTO", "tcp")
            set("KUBERNETES_PORT_\(port)_TCP_PORT", port)
            set("KUBERNETES_PORT_\(port)_TCP_ADDR", host)
        }
        // The `kubernetes` Service's variables are the ones above, which name the API server the
        // way this node reaches it.
        for (name, value) in ServiceEnvironment.variables(for: services.filter { !($0.name == "kubernetes" && $0.namespace == "default") }) {
            set(name, value)
        }
        set("POD_NAME", pod.name ?? "")
        set("POD_NAMESPACE", pod.namespace ?? "")
        set("POD_IP", podIP)
        // `$(VAR)` in env values sees only what the pod itself defined before, not the image's Env.
        var defined: [String: String] = [:]
        for source in Container(json: container).envFrom {
            for (name, value) in try envFrom(source) {
                set(name, value)
                defined[name] = value
            }
        }
        for variable in Container(json: container).env {
            guard let name = variable.name, !name.isEmpty else {
                throw ContainerConfigError(message: "container \(containerName): an env entry has no name")
            }
            let value: String
            if let from = variable.valueFrom {
                guard let resolved = try valueFrom(from, name: name) else { continue }
                value = resolved
            } else {
                value = KubernetesCommandLine.expand(variable.value ?? "") { defined[$0] }
            }
            set(name, value)
            defined[name] = value
        }
        return names.map { "\($0)=\(values[$0] ?? "")" }
    }

    private mutating func set(_ name: String, _ value: String) {
        if values.updateValue(value, forKey: name) == nil { names.append(name) }
    }

    private func envFrom(_ source: EnvFromSource) throws -> [(String, String)] {
        let prefix = source.prefix ?? ""
        let (kind, reference): (ConfigKind, KeySelector)
        if let configMap = source.configMapRef {
            (kind, reference) = (.configMap, configMap)
        } else if let secret = source.secretRef {
            (kind, reference) = (.secret, secret)
        } else {
            throw ContainerConfigError(message: "container \(containerName): an envFrom entry names neither configMapRef nor secretRef")
        }
        let name = reference.name ?? ""
        guard let data = try sources.read(kind, pod.namespace ?? "default", name) else {
            if reference.optional ?? false { return [] }
            throw ContainerConfigError(message: "\(kind.lowercased) \"\(name)\" not found (container \(containerName), envFrom)")
        }
        return data.sorted { $0.key < $1.key }.map { (prefix + $0.key, String(decoding: $0.value, as: UTF8.self)) }
    }

    /// nil when an optional reference is missing (the variable is then left out).
    private func valueFrom(_ from: EnvVarSource, name: String) throws -> String? {
        if let field = from.fieldPath {
            return try fieldValue(field, variable: name)
        }
        if let reference = from.resourceFieldRef {
            return try resourceValue(reference, variable: name)
        }
        for (kind, reference) in [(ConfigKind.configMap, from.configMapKeyRef), (.secret, from.secretKeyRef)] {
            guard let reference else { continue }
            let objectName = reference.name ?? "", key = reference.key ?? ""
            let optional = reference.optional ?? false
            let namespace = pod.namespace ?? "default"
            guard let data = try sources.read(kind, namespace, objectName) else {
                if optional { return nil }
                throw ContainerConfigError(message: "\(kind.lowercased) \"\(objectName)\" not found (container \(containerName), env \(name))")
            }
            guard let value = data[key] else {
                if optional { return nil }
                throw ContainerConfigError(message: "couldn't find key \(key) in \(kind.title) \(namespace)/\(objectName) (container \(containerName), env \(name))")
            }
            return String(decoding: value, as: UTF8.self)
        }
        throw ContainerConfigError(message: "container \(containerName), env \(name): valueFrom names no supported source (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef)")
    }

    private func fieldValue(_ path: String, variable: String) throws -> String {
        switch path {
        case "metadata.name": return pod.name ?? ""
        case "metadata.namespace": return pod.namespace ?? ""
        case "metadata.uid": return pod.uid ?? ""
        case "spec.nodeName": return nodeName
        case "spec.serviceAccountName": return Pod(json: pod).spec.serviceAccountName ?? "default"
        case "status.podIP", "status.podIPs": return podIP
        case "status.hostIP", "status.hostIPs": return "127.0.0.1"
        default: break
        }
        for (prefix, map) in [("metadata.labels", "labels"), ("metadata.annotations", "annotations")] where path.hasPrefix(prefix + "[") {
            // metadata.labels['app'] (quotes optional, as kubectl writes them).
            let key = path.dropFirst(prefix.count + 1).dropLast().trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            let metadata = pod.metadata
            return (map == "labels" ? metadata.labels : metadata.annotations)[key] ?? ""
        }
        throw ContainerConfigError(message: "container \(containerName), env \(variable): fieldRef \"\(path)\" is not supported (use metadata.name, metadata.namespace, metadata.uid, metadata.labels['…'], metadata.annotations['…'], spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP)")
    }

    /// limits.cpu / requests.cpu in cores (rounded up by the divisor), limits.memory /
    /// requests.memory in bytes; an unset limit reports the node's allocatable.
    private func resourceValue(_ reference: ResourceFieldSelector, variable: String) throws -> String {
        let resource = reference.resource ?? ""
        let target = reference.containerName.flatMap { name in
            Pod(json: pod).spec.containers.first { $0.name == name }
        } ?? Container(json: container)
        let divisorText = reference.divisor
        let parts = resource.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["limits", "requests"].contains(parts[0]), ["cpu", "memory", "ephemeral-storage"].contains(parts[1]) else {
            throw ContainerConfigError(message: "container \(containerName), env \(variable): resourceFieldRef \"\(resource)\" is not supported (use limits.cpu, limits.memory, requests.cpu, requests.memory)")
        }
        var divisor = Quantity(divisorText) ?? Quantity(units: 1)
        if divisor.milli == 0 { divisor = Quantity(units: 1) }
        let resources = target.resources
        var amount = Quantity((parts[0] == "limits" ? resources.limits : resources.requests)[parts[1]])
        if amount == nil, parts[0] == "requests" { amount = Quantity(resources.limits[parts[1]]) }
        let value = amount ?? (parts[0] == "limits" ? allocatable[parts[1]] : nil) ?? .zero
        // Whole multiples of the divisor, rounded up, as the downward API reports them.
        let count = (value.milli + divisor.milli - 1) / divisor.milli
        return String(count)
    }
}
