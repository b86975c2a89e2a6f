/// Defaulting and checks of a pod spec, shared by the kinds that hold one (Pod, and the pod
/// template of Deployment, ReplicaSet and Job), as kube-apiserver's `SetDefaults_PodSpec` and
/// `ValidatePodSpec` are shared.
enum PodSpecRules {
    static func applyDefaults(_ object: inout JSONValue, at path: [String]) {
        guard var spec = object.value(at: path), spec.objectValue != nil else { return }
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = .int(30) }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        for list in ["containers", "initContainers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for index in containers.indices { defaultContainer(&containers[index]) }
            spec[list] = .array(containers)
        }
        object.set(spec, at: path)
    }

    /// A container's defaults as kube-apiserver sets them (pkg/apis/core/v1/defaults.go), so
    /// `kubectl describe` shows a probe's real timeout and thresholds, not zeros.
    private static func defaultContainer(_ container: inout JSONValue) {
        guard container.objectValue != nil else { return }
        if container["imagePullPolicy"] == nil {
            let image = container["image"]?.stringValue ?? ""
            let tag = image.split(separator: "/").last.map { $0.contains(":") } ?? false
            container["imagePullPolicy"] = image.contains("@") ? "IfNotPresent" : (image.hasSuffix(":latest") || !tag ? "Always" : "IfNotPresent")
        }
        if container["terminationMessagePath"] == nil { container["terminationMessagePath"] = "/dev/termination-log" }
        if container["terminationMessagePolicy"] == nil { container["terminationMessagePolicy"] = "File" }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard var value = container[probe], value.objectValue != nil else { continue }
            for (field, fallback) in [("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)]
            where value[field] == nil {
                value[field] = .int(Int64(fallback))
            }
            if var get = value["httpGet"], get.objectValue != nil, get["scheme"] == nil {
                get["scheme"] = "HTTP"
                value["httpGet"] = get
            }
            container[probe] = value
        }
        if var ports = container["ports"]?.arrayValue {
            for index in ports.indices where ports[index].objectValue != nil && ports[index]["protocol"] == nil {
                ports[index]["protocol"] = "TCP"
            }
            container["ports"] = .array(ports)
        }
    }

    static func validate(_ spec: JSONValue?, path: String) -> [FieldCause] {
        guard let spec else { return [FieldCause(path, "Required value")] }
        guard let containers = spec["containers"]?.arrayValue, !containers.isEmpty else {
            return [FieldCause("\(path).containers", "Required value")]
        }
        var causes: [FieldCause] = []
        for (index, container) in containers.enumerated() {
            if (container["name"]?.stringValue ?? "").isEmpty { causes.append(FieldCause("\(path).containers[\(index)].name", "Required value")) }
            if (container["image"]?.stringValue ?? "").isEmpty { causes.append(FieldCause("\(path).containers[\(index)].image", "Required value")) }
        }
        if let policy = spec["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            causes.append(FieldCause("\(path).restartPolicy", "Unsupported value: \"\(policy)\": supported values: \"Always\", \"OnFailure\", \"Never\""))
        }
        return causes
    }

    /// A workload's template and selector: the pod spec, non-negative replicas, and a selector
    /// that matches the template's labels (`required`: it must be given at all).
    static func validateTemplate(_ object: JSONValue, selectorRequired: Bool) -> [FieldCause] {
        var causes = validate(object.value(at: "spec.template.spec"), path: "spec.template.spec")
        if let replicas = object.value(at: "spec.replicas")?.intValue, replicas < 0 {
            causes.append(FieldCause("spec.replicas", "Invalid value: \(replicas): must be greater than or equal to 0"))
        }
        let selector = LabelSelector(object: object.value(at: "spec.selector") ?? [:])
        let labels = (object.value(at: "spec.template.metadata.labels")?.objectValue ?? [:]).compactMapValues(\.stringValue)
        if selectorRequired && selector.isEmpty {
            causes.append(FieldCause("spec.selector", "Required value"))
        } else if !selector.isEmpty && !selector.matches(labels) {
            causes.append(FieldCause("spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`"))
        }
        return causes
    }
}
