extension KindDefinition {
    public static let pod = KindDefinition(
        group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true,
        shortNames: ["po"], categories: ["all"], subresources: ["status", "binding", "log", "exec", "attach", "portforward"], returnsDeletedObject: true,
        selectableFields: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                           "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"],
        defaults: { object in
            PodSpecRules.applyDefaults(&object, at: ["spec"])
            // kube's ServiceAccount admission: a pod runs as `default` unless it names an
            // account; the deprecated `serviceAccount` mirrors the name, as the v1 API serves it.
            let named = object.value(at: "spec.serviceAccountName")?.stringValue ?? ""
            let account = named.isEmpty ? (object.value(at: "spec.serviceAccount")?.stringValue ?? "") : named
            let effective = account.isEmpty ? KindDefinition.defaultServiceAccountName : account
            object.set(.string(effective), at: ["spec", "serviceAccountName"])
            object.set(.string(effective), at: ["spec", "serviceAccount"])
            if object.value(at: "status.phase") == nil { object.set("Pending", at: ["status", "phase"]) }
        },
        validate: { PodSpecRules.validate($0.value(at: "spec"), path: "spec") },
        columns: [
            .name,
            TableColumn(name: "Ready") { object, _ in .string(Self.podReady(object)) },
            TableColumn(name: "Status") { object, _ in .string(Self.podStatus(object)) },
            TableColumn(name: "Restarts") { object, _ in .string(Self.podRestarts(object)) },
            .age,
            .text("IP", "status.podIP", or: "<none>", priority: 1),
            .text("Node", "spec.nodeName", or: "<none>", priority: 1),
        ],
        gracePeriod: { pod, requested in gracePeriod(of: pod, requested: requested) })

    /// Seconds a pod gets to stop, or nil when it has nothing to stop: not on a node, finished,
    /// or asked to go at once (grace 0).
    private static func gracePeriod(of pod: JSONValue, requested: Int64?) -> Int64? {
        guard let node = pod.value(at: "spec.nodeName")?.stringValue, !node.isEmpty else { return nil }
        let phase = pod.value(at: "status.phase")?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return nil }
        let grace = requested ?? pod.value(at: "spec.terminationGracePeriodSeconds")?.intValue ?? 30
        return grace > 0 ? grace : nil
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

    /// The STATUS column as kubectl's printer computes it: an init container that failed or is
    /// waiting shows as `Init:Error`, `Init:CrashLoopBackOff`, `Init:1/2`; then the app
    /// containers' waiting or terminated reasons, last container first.
    public static func podStatus(_ pod: JSONValue) -> String {
        var status = Printing.text(pod, "status.reason", or: Printing.text(pod, "status.phase", or: "Pending"))
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
}

extension APIResource {
    public static let pods = KindDefinition.pod.resource
}
