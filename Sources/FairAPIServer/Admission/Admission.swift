import FairKube
import Foundation

/// Defaulting and validation of what is stored, per resource — the part of admission every
/// object goes through, so controllers can rely on the fields they read being there.
enum Admission {
    static func now() -> String { timestamp(Date()) }

    /// RFC 3339 in UTC to the second, as Kubernetes writes metadata times. Formatted by hand:
    /// a date formatter per call cost more than the rest of a pod's creation.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }

    /// Fields every new object gets: uid, creationTimestamp, generation, apiVersion/kind.
    static func prepareNew(_ object: inout JSONValue, _ definition: ResourceDefinition, namespace: String) {
        object["apiVersion"] = .string(definition.apiVersion)
        object["kind"] = .string(definition.kind)
        if definition.namespaced { object.set(.string(namespace), at: "metadata.namespace") } else { object.set(nil, at: "metadata.namespace") }
        object.set(.string(UUID().uuidString.lowercased()), at: "metadata.uid")
        object.set(.string(now()), at: "metadata.creationTimestamp")
        object.set(.int(1), at: "metadata.generation")
        object.set(nil, at: "metadata.deletionTimestamp")
        if definition.kind == "Job" { generateJobSelector(&object) }
        applyDefaults(&object, definition)
    }

    /// A new Job's selector and pod labels, as kube-apiserver generates them unless the Job set
    /// `manualSelector: true`: the template is labelled with the Job's uid and name (legacy and
    /// `batch.kubernetes.io/` keys), and the selector matches the uid, so a Job's pods are
    /// exactly those it made (`kubectl logs job/X`, `kubectl describe job`).
    static func generateJobSelector(_ job: inout JSONValue) {
        guard job.value(at: "spec.manualSelector")?.boolValue != true,
              let uid = job.uid, let name = job.name, job.value(at: "spec.template") != nil else { return }
        var labels = job.value(at: "spec.template.metadata.labels")?.objectValue ?? [:]
        for (key, value) in [("controller-uid", uid), ("batch.kubernetes.io/controller-uid", uid),
                             ("job-name", name), ("batch.kubernetes.io/job-name", name)] where labels[key] == nil {
            labels[key] = .string(value)
        }
        job.set(.object(labels), at: ["spec", "template", "metadata", "labels"])
        var matchLabels = job.value(at: "spec.selector.matchLabels")?.objectValue ?? [:]
        matchLabels["batch.kubernetes.io/controller-uid"] = .string(uid)
        job.set(.object(matchLabels), at: ["spec", "selector", "matchLabels"])
    }

    static func applyDefaults(_ object: inout JSONValue, _ definition: ResourceDefinition) {
        switch definition.kind {
        case "Pod":
            defaultPodSpec(&object, at: "spec")
            if object.value(at: "status.phase") == nil { object.set("Pending", at: "status.phase") }
        case "Deployment":
            if object.value(at: "spec.replicas") == nil { object.set(.int(1), at: "spec.replicas") }
            if object.value(at: "spec.strategy.type") == nil {
                object.set("RollingUpdate", at: "spec.strategy.type")
                object.set("25%", at: "spec.strategy.rollingUpdate.maxSurge")
                object.set("25%", at: "spec.strategy.rollingUpdate.maxUnavailable")
            }
            if object.value(at: "spec.revisionHistoryLimit") == nil { object.set(.int(10), at: "spec.revisionHistoryLimit") }
            defaultPodSpec(&object, at: "spec.template.spec")
        case "ReplicaSet":
            if object.value(at: "spec.replicas") == nil { object.set(.int(1), at: "spec.replicas") }
            defaultPodSpec(&object, at: "spec.template.spec")
        case "Job":
            if object.value(at: "spec.parallelism") == nil { object.set(.int(1), at: "spec.parallelism") }
            if object.value(at: "spec.completions") == nil { object.set(.int(1), at: "spec.completions") }
            if object.value(at: "spec.backoffLimit") == nil { object.set(.int(6), at: "spec.backoffLimit") }
            if object.value(at: "spec.template.spec.restartPolicy") == nil { object.set("Never", at: "spec.template.spec.restartPolicy") }
            defaultPodSpec(&object, at: "spec.template.spec")
        case "Service":
            if object.value(at: "spec.type") == nil { object.set("ClusterIP", at: "spec.type") }
        case "Namespace":
            if object.value(at: "status.phase") == nil { object.set("Active", at: "status.phase") }
        default:
            break
        }
    }

    private static func defaultPodSpec(_ object: inout JSONValue, at path: String) {
        guard object.value(at: path) != nil else { return }
        if object.value(at: "\(path).restartPolicy") == nil { object.set("Always", at: "\(path).restartPolicy") }
        if object.value(at: "\(path).terminationGracePeriodSeconds") == nil { object.set(.int(30), at: "\(path).terminationGracePeriodSeconds") }
        if object.value(at: "\(path).dnsPolicy") == nil { object.set("ClusterFirst", at: "\(path).dnsPolicy") }
        if object.value(at: "\(path).schedulerName") == nil { object.set("default-scheduler", at: "\(path).schedulerName") }
        for list in ["containers", "initContainers"] {
            guard var containers = object.value(at: "\(path).\(list)")?.arrayValue else { continue }
            for index in containers.indices { defaultContainer(&containers[index]) }
            object.set(.array(containers), at: "\(path).\(list)")
        }
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

    /// Field errors of an object about to be stored; empty when it is valid.
    static func validate(_ object: JSONValue, _ definition: ResourceDefinition) -> [(field: String, message: String)] {
        // Field types first, against Kubernetes' own definitions: what kube-apiserver's decoder
        // would refuse never reaches the checks below (or the store).
        let typeCauses = SchemaValidator.causes(object, apiVersion: definition.apiVersion, kind: definition.kind)
        if !typeCauses.isEmpty { return typeCauses }
        var causes: [(String, String)] = []
        let name = object.name ?? ""
        if name.isEmpty {
            causes.append(("metadata.name", "Required value: name or generateName is required"))
        } else if !isDNSSubdomain(name) {
            causes.append(("metadata.name", "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"))
        }
        for (key, _) in object.value(at: "metadata.labels")?.objectValue ?? [:] where key.isEmpty || key.count > 316 {
            causes.append(("metadata.labels", "Invalid value: \"\(key)\""))
        }
        switch definition.kind {
        case "Pod":
            causes += validatePodSpec(object.value(at: "spec"), path: "spec")
        case "Deployment", "ReplicaSet", "Job":
            causes += validatePodSpec(object.value(at: "spec.template.spec"), path: "spec.template.spec")
            if let replicas = object.value(at: "spec.replicas")?.intValue, replicas < 0 {
                causes.append(("spec.replicas", "Invalid value: \(replicas): must be greater than or equal to 0"))
            }
            if definition.kind == "Job" {
                let selector = LabelSelector(object: object.value(at: "spec.selector") ?? [:])
                let labels = (object.value(at: "spec.template.metadata.labels")?.objectValue ?? [:]).compactMapValues(\.stringValue)
                if object.value(at: "spec.manualSelector")?.boolValue == true && selector.isEmpty {
                    causes.append(("spec.selector", "Required value"))
                } else if !selector.isEmpty && !selector.matches(labels) {
                    causes.append(("spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`"))
                }
            } else {
                let selector = LabelSelector(object: object.value(at: "spec.selector") ?? [:])
                let labels = (object.value(at: "spec.template.metadata.labels")?.objectValue ?? [:]).compactMapValues(\.stringValue)
                if selector.isEmpty {
                    causes.append(("spec.selector", "Required value"))
                } else if !selector.matches(labels) {
                    causes.append(("spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`"))
                }
            }
        default:
            break
        }
        return causes
    }

    private static func validatePodSpec(_ spec: JSONValue?, path: String) -> [(field: String, message: String)] {
        guard let spec else { return [(path, "Required value")] }
        guard let containers = spec["containers"]?.arrayValue, !containers.isEmpty else {
            return [("\(path).containers", "Required value")]
        }
        var causes: [(String, String)] = []
        for (index, container) in containers.enumerated() {
            if (container["name"]?.stringValue ?? "").isEmpty { causes.append(("\(path).containers[\(index)].name", "Required value")) }
            if (container["image"]?.stringValue ?? "").isEmpty { causes.append(("\(path).containers[\(index)].image", "Required value")) }
        }
        if let policy = spec["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            causes.append(("\(path).restartPolicy", "Unsupported value: \"\(policy)\": supported values: \"Always\", \"OnFailure\", \"Never\""))
        }
        return causes
    }

    static func isDNSSubdomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253 else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        guard name.allSatisfy({ allowed.contains($0) }) else { return false }
        guard let first = name.first, let last = name.last else { return false }
        return first.isLetter || first.isNumber ? (last.isLetter || last.isNumber) : false
    }
}
