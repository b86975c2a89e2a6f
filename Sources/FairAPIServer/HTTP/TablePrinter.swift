import FairKube
import Foundation

/// Server-side printing (`meta.k8s.io/v1` `Table`): kubectl asks for it with
/// `Accept: application/json;as=Table;…` and prints the columns the server chose, so
/// `kubectl get pods` shows READY, STATUS, RESTARTS and AGE as against any cluster.
enum TablePrinter {
    struct Column {
        var name: String
        var type: String
        var format: String
        /// 0: always shown; 1: only with `-o wide`.
        var priority: Int
        var value: (JSONValue, Date) -> JSONValue

        init(name: String, type: String = "string", format: String = "", priority: Int = 0,
             value: @escaping (JSONValue, Date) -> JSONValue) {
            self.name = name
            self.type = type
            self.format = format
            self.priority = priority
            self.value = value
        }
    }

    static func wantsTable(_ accept: String) -> Bool { accept.contains("as=Table") }

    static func table(_ definition: ResourceDefinition, objects: [JSONValue], resourceVersion: String?, continue token: String? = nil,
                      includeColumns: Bool = true) -> JSONValue {
        let columns = self.columns(for: definition)
        let now = Date()
        var metadata: JSONValue = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let token { metadata["continue"] = .string(token) }
        let rows: [JSONValue] = objects.map { object in
            ["cells": .array(columns.map { $0.value(object, now) }),
             "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]]
        }
        var table: JSONValue = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "rows": .array(rows)]
        table["columnDefinitions"] = includeColumns ? .array(columns.map { column in
            ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
             "description": .string(column.name), "priority": .int(Int64(column.priority))]
        }) : .array([])
        return table
    }

    // MARK: - Columns per kind, as kubectl's printers lay them out

    private static func columns(for definition: ResourceDefinition) -> [Column] {
        let name = Column(name: "Name", format: "name") { object, _ in .string(object.name ?? "") }
        let age = Column(name: "Age") { object, now in .string(Self.age(of: object, now: now)) }
        switch definition.kind {
        case "Pod":
            return [name,
                    Column(name: "Ready") { object, _ in .string(podReady(object)) },
                    Column(name: "Status") { object, _ in .string(podStatus(object)) },
                    Column(name: "Restarts", type: "string") { object, _ in .string(podRestarts(object)) },
                    age,
                    Column(name: "IP", priority: 1) { object, _ in .string(text(object, "status.podIP", or: "<none>")) },
                    Column(name: "Node", priority: 1) { object, _ in .string(text(object, "spec.nodeName", or: "<none>")) }]
        case "Node":
            return [name,
                    Column(name: "Status") { object, _ in .string(nodeStatus(object)) },
                    Column(name: "Roles") { _, _ in "<none>" },
                    age,
                    Column(name: "Version") { object, _ in .string(text(object, "status.nodeInfo.kubeletVersion", or: "")) },
                    Column(name: "Internal-IP", priority: 1) { object, _ in .string(address(object, "InternalIP")) },
                    Column(name: "OS-Image", priority: 1) { object, _ in .string(text(object, "status.nodeInfo.osImage", or: "<unknown>")) },
                    Column(name: "Kernel-Version", priority: 1) { object, _ in .string(text(object, "status.nodeInfo.kernelVersion", or: "<unknown>")) },
                    Column(name: "Container-Runtime", priority: 1) { object, _ in
                        .string(text(object, "status.nodeInfo.containerRuntimeVersion", or: "<unknown>"))
                    }]
        case "Deployment":
            return [name,
                    Column(name: "Ready") { object, _ in .string("\(int(object, "status.readyReplicas"))/\(int(object, "spec.replicas"))") },
                    Column(name: "Up-to-date", type: "integer") { object, _ in .int(int(object, "status.updatedReplicas")) },
                    Column(name: "Available", type: "integer") { object, _ in .int(int(object, "status.availableReplicas")) },
                    age] + workloadColumns()
        case "ReplicaSet":
            return [name,
                    Column(name: "Desired", type: "integer") { object, _ in .int(int(object, "spec.replicas")) },
                    Column(name: "Current", type: "integer") { object, _ in .int(int(object, "status.replicas")) },
                    Column(name: "Ready", type: "integer") { object, _ in .int(int(object, "status.readyReplicas")) },
                    age] + workloadColumns()
        case "Job":
            return [name,
                    Column(name: "Status") { object, _ in .string(jobStatus(object)) },
                    Column(name: "Completions") { object, _ in
                        .string("\(int(object, "status.succeeded"))/\(object.value(at: "spec.completions")?.intValue ?? 1)")
                    },
                    Column(name: "Duration") { object, now in .string(jobDuration(object, now: now)) },
                    age] + workloadColumns()
        case "Service":
            return [name,
                    Column(name: "Type") { object, _ in .string(text(object, "spec.type", or: "ClusterIP")) },
                    Column(name: "Cluster-IP") { object, _ in .string(text(object, "spec.clusterIP", or: "<none>")) },
                    Column(name: "External-IP") { _, _ in "<none>" },
                    Column(name: "Port(s)") { object, _ in .string(servicePorts(object)) },
                    age,
                    Column(name: "Selector", priority: 1) { object, _ in .string(selectorText(object.value(at: "spec.selector"))) }]
        case "Endpoints":
            return [name, Column(name: "Endpoints") { object, _ in .string(endpoints(object)) }, age]
        case "Namespace":
            return [name, Column(name: "Status") { object, _ in .string(text(object, "status.phase", or: "Active")) }, age]
        case "Event":
            return [Column(name: "Last Seen") { object, now in .string(eventAge(object, now: now)) },
                    Column(name: "Type") { object, _ in .string(text(object, "type", or: "")) },
                    Column(name: "Reason") { object, _ in .string(text(object, "reason", or: "")) },
                    Column(name: "Object") { object, _ in
                        .string("\(text(object, "involvedObject.kind", or: "").lowercased())/\(text(object, "involvedObject.name", or: ""))")
                    },
                    Column(name: "Message") { object, _ in .string(text(object, "message", or: "")) }]
        case "ConfigMap":
            return [name, Column(name: "Data", type: "integer") { object, _ in .int(Int64(object["data"]?.objectValue?.count ?? 0)) }, age]
        default:
            return [name, age]
        }
    }

    private static func workloadColumns() -> [Column] {
        [Column(name: "Containers", priority: 1) { object, _ in
            .string(containers(object).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
         },
         Column(name: "Images", priority: 1) { object, _ in
            .string(containers(object).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
         },
         Column(name: "Selector", priority: 1) { object, _ in .string(selectorText(object.value(at: "spec.selector"))) }]
    }

    // MARK: - Cell values

    private static func text(_ object: JSONValue, _ path: String, or fallback: String) -> String {
        guard let value = object.value(at: path)?.stringValue, !value.isEmpty else { return fallback }
        return value
    }

    private static func int(_ object: JSONValue, _ path: String) -> Int64 { object.value(at: path)?.intValue ?? 0 }

    private static func containers(_ object: JSONValue) -> [JSONValue] {
        object.value(at: "spec.template.spec.containers")?.arrayValue ?? []
    }

    static func parseTime(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    private static func age(of object: JSONValue, now: Date) -> String {
        guard let created = parseTime(object.value(at: "metadata.creationTimestamp")?.stringValue) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(created))
    }

    private static func eventAge(_ object: JSONValue, now: Date) -> String {
        let last = parseTime(object["lastTimestamp"]?.stringValue) ?? parseTime(object["eventTime"]?.stringValue)
            ?? parseTime(object.value(at: "metadata.creationTimestamp")?.stringValue)
        return last.map { humanDuration(now.timeIntervalSince($0)) } ?? "<unknown>"
    }

    /// Kubernetes' HumanDuration: "42s", "3m20s", "25m", "5h10m", "2d3h", "400d", "2y10d".
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(max(0, interval))
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        let days = hours / 24
        return days % 365 == 0 ? "\(days / 365)y" : "\(days / 365)y\(days % 365)d"
    }

    private static func podReady(_ pod: JSONValue) -> String {
        let total = pod.value(at: "spec.containers")?.arrayValue?.count ?? 0
        let ready = (pod.value(at: "status.containerStatuses")?.arrayValue ?? []).filter { $0["ready"]?.boolValue == true }.count
        return "\(ready)/\(total)"
    }

    private static func podRestarts(_ pod: JSONValue) -> String {
        let restarts = (pod.value(at: "status.containerStatuses")?.arrayValue ?? []).reduce(Int64(0)) { $0 + ($1["restartCount"]?.intValue ?? 0) }
        return String(restarts)
    }

    /// kubectl's STATUS: the phase, or what a container is waiting for or ended with.
    /// The STATUS column as kubectl's printer computes it: an init container that failed or is
    /// waiting shows as `Init:Error`, `Init:CrashLoopBackOff`, `Init:1/2`; then the app
    /// containers' waiting or terminated reasons, last container first.
    static func podStatus(_ pod: JSONValue) -> String {
        var status = text(pod, "status.reason", or: text(pod, "status.phase", or: "Pending"))
        let initContainers = pod.value(at: "spec.initContainers")?.arrayValue ?? []
        var initializing = false
        for (index, container) in (pod.value(at: "status.initContainerStatuses")?.arrayValue ?? []).enumerated() {
            let terminated = container.value(at: "state.terminated")
            if let terminated, (terminated["exitCode"]?.intValue ?? 0) == 0 { continue }
            initializing = true
            if let terminated {
                if let reason = terminated["reason"]?.stringValue, !reason.isEmpty {
                    status = "Init:" + reason
                } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                    status = "Init:Signal:\(signal)"
                } else {
                    status = "Init:ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                }
            } else if let reason = container.value(at: "state.waiting.reason")?.stringValue, !reason.isEmpty, reason != "PodInitializing" {
                status = "Init:" + reason
            } else {
                status = "Init:\(index)/\(initContainers.count)"
            }
            break
        }
        let initialized = (pod.value(at: "status.conditions")?.arrayValue ?? [])
            .contains { $0["type"]?.stringValue == "Initialized" && $0["status"]?.stringValue == "True" }
        if !initializing || initialized {
            var running = false
            for container in (pod.value(at: "status.containerStatuses")?.arrayValue ?? []).reversed() {
                if let reason = container.value(at: "state.waiting.reason")?.stringValue, !reason.isEmpty {
                    status = reason
                } else if let terminated = container.value(at: "state.terminated") {
                    if let reason = terminated["reason"]?.stringValue, !reason.isEmpty {
                        status = reason
                    } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                        status = "Signal:\(signal)"
                    } else {
                        status = "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                    }
                } else if container["ready"]?.boolValue == true, container.value(at: "state.running") != nil {
                    running = true
                }
            }
            if status == "Completed" && running {
                let ready = (pod.value(at: "status.conditions")?.arrayValue ?? []).contains { $0["type"]?.stringValue == "Ready" }
                status = ready ? "Running" : "NotReady"
            }
        }
        let phase = pod.value(at: "status.phase")?.stringValue
        if pod.value(at: "metadata.deletionTimestamp") != nil && phase != "Succeeded" && phase != "Failed" { status = "Terminating" }
        return status
    }

    private static func nodeStatus(_ node: JSONValue) -> String {
        let ready = (node.value(at: "status.conditions")?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
        var status = ready?["status"]?.stringValue == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
        if node.value(at: "spec.unschedulable")?.boolValue == true { status += ",SchedulingDisabled" }
        return status
    }

    private static func address(_ node: JSONValue, _ type: String) -> String {
        (node.value(at: "status.addresses")?.arrayValue ?? []).first { $0["type"]?.stringValue == type }?["address"]?.stringValue ?? "<none>"
    }

    private static func jobStatus(_ job: JSONValue) -> String {
        let conditions = (job.value(at: "status.conditions")?.arrayValue ?? []).filter { $0["status"]?.stringValue == "True" }
        if conditions.contains(where: { $0["type"]?.stringValue == "Complete" }) { return "Complete" }
        if conditions.contains(where: { $0["type"]?.stringValue == "Failed" }) { return "Failed" }
        if job.value(at: "spec.suspend")?.boolValue == true { return "Suspended" }
        return "Running"
    }

    private static func jobDuration(_ job: JSONValue, now: Date) -> String {
        guard let start = parseTime(job.value(at: "status.startTime")?.stringValue) else { return "" }
        let end = parseTime(job.value(at: "status.completionTime")?.stringValue) ?? now
        return humanDuration(end.timeIntervalSince(start))
    }

    private static func servicePorts(_ service: JSONValue) -> String {
        let ports = (service.value(at: "spec.ports")?.arrayValue ?? []).map { port -> String in
            let number = port["port"]?.intValue ?? 0
            let proto = port["protocol"]?.stringValue ?? "TCP"
            if let nodePort = port["nodePort"]?.intValue { return "\(number):\(nodePort)/\(proto)" }
            return "\(number)/\(proto)"
        }
        return ports.isEmpty ? "<none>" : ports.joined(separator: ",")
    }

    private static func endpoints(_ object: JSONValue) -> String {
        var entries: [String] = []
        for subset in object["subsets"]?.arrayValue ?? [] {
            let ports = subset["ports"]?.arrayValue?.compactMap { $0["port"]?.intValue } ?? []
            for address in subset["addresses"]?.arrayValue ?? [] {
                guard let ip = address["ip"]?.stringValue else { continue }
                if ports.isEmpty { entries.append(ip) } else { entries += ports.map { "\(ip):\($0)" } }
            }
        }
        if entries.isEmpty { return "<none>" }
        return entries.count > 3 ? entries.prefix(3).joined(separator: ",") + " + \(entries.count - 3) more..." : entries.joined(separator: ",")
    }

    private static func selectorText(_ selector: JSONValue?) -> String {
        guard let selector else { return "<none>" }
        let labels = selector["matchLabels"]?.objectValue ?? (selector["matchExpressions"] == nil ? selector.objectValue ?? [:] : [:])
        let text = labels.compactMap { key, value in value.stringValue.map { "\(key)=\($0)" } }.sorted().joined(separator: ",")
        return text.isEmpty ? "<none>" : text
    }
}
