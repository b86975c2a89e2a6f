import FairKube
import Foundation

/// The agent's Node object: registered at start (created, or brought up to date when a previous
/// run left it), then kept alive by a heartbeat on its Ready condition, as kubelet does.
final class NodeRegistration: @unchecked Sendable {
    private let client: KubeClient
    private let options: NodeOptions
    private let runtime: RuntimeDescription
    private let machine: MachineInfo
    private let logPort: Int
    private let servingPin: String?
    /// How many of each CDI device kind the node has (read once, at start).
    let devices: [String: Int]

    /// The node's address: pods share the host's network, on loopback.
    static let internalIP = "127.0.0.1"

    init(client: KubeClient, options: NodeOptions, runtime: RuntimeDescription, logPort: Int, servingPin: String?,
         machine: MachineInfo = .current, devices: [String: Int]) {
        self.client = client
        self.options = options
        self.runtime = runtime
        self.logPort = logPort
        self.servingPin = servingPin
        self.machine = machine
        self.devices = devices
    }

    /// The serving key's pin, or nothing (and a stale pin removed) when logs are not served.
    private func annotate(_ node: inout JSONValue) {
        var metadata = node.metadata
        metadata.annotations[NodeServingKey.annotation] = servingPin
        // Written even when empty, as before: an object that had annotations keeps the field.
        if metadata.annotations.isEmpty { metadata.json["annotations"] = .object([:]) }
        node["metadata"] = metadata.json
    }

    var labels: [String: JSONValue] {
        var labels: [String: JSONValue] = [
            "kubernetes.io/hostname": .string(options.name),
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": .string(machine.architecture),
        ]
        for (key, value) in options.labels { labels[key] = .string(value) }
        return labels
    }

    /// Creates the Node, or updates the one a previous run (or someone else) registered.
    func register() throws {
        let now = Date()
        var fresh: JSONValue = [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(options.name), "labels": .object(labels)],
            "spec": ["podCIDR": .string(options.podCIDR), "podCIDRs": [.string(options.podCIDR)]],
            "status": status(previous: nil, now: now),
        ]
        annotate(&fresh)
        do {
            _ = try client.create(.nodes, fresh)
            return
        } catch let error as KubeError where error.isConflict {
            // Registered before: fall through and update it.
        }
        try retryingConflicts {
            var node = try client.get(.nodes, name: options.name)
            var metadata = node.metadata
            for (key, value) in labels { metadata.labels[key] = value.stringValue }
            node["metadata"] = metadata.json
            annotate(&node)
            var typed = Node(json: node)
            typed.spec.podCIDR = options.podCIDR
            typed.spec.podCIDRs = [options.podCIDR]
            node = try client.update(.nodes, typed.json)
            node["status"] = status(previous: node["status"], now: now)
            _ = try client.update(.nodes, node, subresource: "status")
        }
    }

    /// Renews the Ready condition's heartbeat (and everything else the status says). Re-creates the
    /// Node if someone deleted it, so a running agent never disappears from the cluster.
    func heartbeat() throws {
        try retryingConflicts {
            var node: JSONValue
            do {
                node = try client.get(.nodes, name: options.name)
            } catch let error as KubeError where error.isNotFound {
                return try register()
            }
            node["status"] = status(previous: node["status"], now: Date())
            _ = try client.update(.nodes, node, subresource: "status")
        }
    }

    private func retryingConflicts(_ body: () throws -> Void) throws {
        for attempt in 1... {
            do {
                return try body()
            } catch let error as KubeError where error.isConflict && attempt < 5 {
                continue
            }
        }
    }

    /// The whole status; conditions keep their lastTransitionTime while their status holds.
    func status(previous: JSONValue?, now: Date) -> JSONValue {
        let capacity = machine.capacity(overrides: options.capacity, devices: devices)
        let stamp = KubeTime.format(now)
        let previousConditions = NodeStatus(json: previous ?? .object([:])).conditions
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            var condition = Condition(json: ["type": .string(type), "status": .string(status), "reason": .string(reason),
                                             "message": .string(message), "lastHeartbeatTime": .string(stamp)])
            condition.stampTransition(since: previousConditions[type], now: stamp)
            return condition.json
        }
        var status = previous?.objectValue ?? [:]
        status["capacity"] = .object(capacity)
        status["allocatable"] = .object(capacity)
        status["conditions"] = [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        // GPUs a container could not be given are not offered; the node says why and what to run.
        if let advice = machine.deviceAdvice(devices: devices), case var .array(conditions) = status["conditions"] {
            conditions.append(condition("CDISpecMissing", "True", "NoCDISpec", advice))
            status["conditions"] = .array(conditions)
        }
        status["addresses"] = [["type": "InternalIP", "address": .string(Self.internalIP)], ["type": "Hostname", "address": .string(options.name)]]
        status["daemonEndpoints"] = ["kubeletEndpoint": ["Port": .int(Int64(logPort))]]
        status["nodeInfo"] = [
            "machineID": .string(machine.machineID), "systemUUID": .string(machine.machineID), "bootID": .string(machine.bootID),
            "kernelVersion": .string(machine.kernelVersion), "osImage": .string(machine.osImage),
            "containerRuntimeVersion": .string("\(runtime.name)://\(runtime.version)"),
            "kubeletVersion": .string("v1.30.0-fair"), "kubeProxyVersion": "", "operatingSystem": "linux",
            "architecture": .string(machine.architecture),
        ]
        status["phase"] = nil
        return .object(status)
    }
}
