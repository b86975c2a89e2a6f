import FairKube
import Foundation

/// Turns a pod's container into the `ContainerSpec` a runtime starts: argv and env merged with
/// the image's config the Kubernetes way, working directory, mounts, limits, securityContext and
/// file locations.
struct ContainerSpecFactory {
    let syncer: PodSyncer
    let record: PodRecord
    let pod: JSONValue
    let container: JSONValue

    func make(id: String, restartCount: Int, image: PreparedImage, volumePaths: [String: String]) throws -> ContainerSpec {
        let typed = Container(json: container)
        let name = typed.name ?? ""
        let config = image.config
        let podIP = record.persisted.podIP ?? ""
        var environment = ContainerEnvironment(
            pod: pod, container: container, imageEnv: KubernetesCommandLine.strings(config["Env"]), podIP: podIP,
            nodeName: syncer.nodeName, allocatable: syncer.allocatable, sources: syncer.configSources)
        environment.apiServer = syncer.apiServerAddress
        if Pod(json: pod).spec.json["enableServiceLinks"]?.boolValue ?? true {
            environment.services = syncer.services.list(namespace: pod.namespace)
        }
        let env = try environment.resolve()
        let values = environment.values
        let expand = { (text: String) in KubernetesCommandLine.expand(text) { values[$0] } }
        let args = KubernetesCommandLine.argv(
            command: (typed.command ?? []).map(expand),
            args: (typed.args ?? []).map(expand),
            entrypoint: KubernetesCommandLine.strings(config["Entrypoint"]),
            cmd: KubernetesCommandLine.strings(config["Cmd"]))
        guard !args.isEmpty else {
            throw ContainerConfigError(message: "container \(name): no command given and image \(image.reference) has no Entrypoint or Cmd")
        }
        let workingDirectory = [typed.workingDir, config["WorkingDir"]?.stringValue]
            .compactMap { $0 }.first { !$0.isEmpty } ?? "/"
        let mounts = try PodVolumes(pod: pod, volumesDirectory: syncer.store.volumesDirectory(record.uid))
            .mounts(for: container, volumePaths: volumePaths, subPaths: SubPathStager(directory: syncer.store.subPathsDirectory(record.uid)))
        let securityReader = SecurityContextReader(pod: pod, container: container, allowPrivileged: syncer.options.allowPrivileged)
        let security = try securityReader.read()
        try securityReader.verifyNonRoot(security, image: image)
        let limits = typed.resources.limits
        let hostname = Pod(json: pod).spec.hostname ?? record.name
        var spec = ContainerSpec(
            id: id, podUID: record.uid, podNamespace: record.namespace, podName: record.name, containerName: name, image: image,
            args: args, env: env, workingDirectory: workingDirectory, mounts: mounts,
            cpuMilli: Quantity(limits["cpu"])?.milli, memoryBytes: Quantity(limits["memory"])?.units,
            podIP: podIP, hostname: hostname,
            logPath: syncer.store.logPath(record.uid, container: name, restartCount: restartCount),
            bundleDirectory: syncer.store.bundleDirectory(record.uid, containerID: id), security: security)
        spec.devices = try devices(limits: limits, container: name)
        let options = syncer.options
        spec.fullyQualifiedName = PodDNS.fullyQualifiedName(pod: pod, hostname: hostname, clusterDomain: options.clusterDomain)
        spec.resolvConf = PodDNS.resolvConf(pod: pod, clusterDNS: options.clusterDNS, clusterDomain: options.clusterDomain,
                                            host: (try? String(contentsOfFile: ContainerEtcFiles.hostResolvConf, encoding: .utf8)) ?? "")
        return spec
    }

    /// The CDI devices for what the container asks of each kind this node's specs describe
    /// (extended resources: requests equal limits). Capacity given by `--capacity` alone, as
    /// fake nodes have, hands out nothing.
    private func devices(limits: [String: JSONValue], container name: String) throws -> [CDIRegistry.ResolvedDevice] {
        let available = syncer.devices.allocatable
        var requests: [String: Int] = [:]
        for (kind, value) in limits where available[kind] != nil {
            if let count = Quantity(value)?.units, count > 0 { requests[kind] = Int(count) }
        }
        guard !requests.isEmpty else { return [] }
        do {
            return try syncer.deviceAllocations.allocate(pod: record.uid, container: name, requests: requests, available: available)
                .compactMap { syncer.devices.device($0) }
        } catch let insufficient as DeviceAllocations.Insufficient {
            throw ContainerConfigError(message: "container \(name): \(insufficient)")
        }
    }
}
