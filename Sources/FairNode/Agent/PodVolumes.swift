import FairKube
import Foundation

/// The host directories behind a pod's volumes: emptyDir under `DATA/pods/<uid>/volumes/<name>`
/// (removed with the pod), configMap as files written there once, when the pod first needs them
/// (later changes to the ConfigMap reach new pods only), hostPath as given. Other volume types
/// are refused with a message naming the volume.
struct PodVolumes {
    let pod: JSONValue
    let volumesDirectory: String
    /// A ConfigMap's data by namespace and name; nil when it does not exist.
    var configMap: ((_ namespace: String, _ name: String) throws -> [String: String]?)? = nil

    /// Host path of every volume, created when needed.
    func prepare() throws -> [String: String] {
        var paths: [String: String] = [:]
        for volume in Pod(json: pod).spec.volumes {
            guard let name = volume.name, !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw ContainerConfigError(message: "pod \(pod.name ?? ""): a volume has no valid name")
            }
            if volume.emptyDir != nil {
                let path = "\(volumesDirectory)/\(name)"
                try createDirectory(path, volume: name)
                // Writable by whatever user the pod's containers run as, as kubelet makes it;
                // other local users cannot reach it (the node's data directory is 0700).
                chmod(path, 0o777)
                paths[name] = path
            } else if let hostPath = volume.hostPath?.path {
                guard hostPath.hasPrefix("/") else {
                    throw ContainerConfigError(message: "volume \(name): hostPath \"\(hostPath)\" must be an absolute path")
                }
                let type = volume.hostPath?.type ?? ""
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: hostPath, isDirectory: &isDirectory)
                switch type {
                case "DirectoryOrCreate" where !exists:
                    try createDirectory(hostPath, volume: name)
                case "FileOrCreate" where !exists:
                    guard FileManager.default.createFile(atPath: hostPath, contents: nil) else {
                        throw ContainerConfigError(message: "volume \(name): cannot create hostPath file \(hostPath)")
                    }
                case "Directory" where !(exists && isDirectory.boolValue):
                    throw ContainerConfigError(message: "volume \(name): hostPath \(hostPath) is not a directory")
                case "File" where !(exists && !isDirectory.boolValue):
                    throw ContainerConfigError(message: "volume \(name): hostPath \(hostPath) is not a file")
                default:
                    break
                }
                paths[name] = hostPath
            } else if let source = volume.configMap, let configMap {
                let path = "\(volumesDirectory)/\(name)"
                if !FileManager.default.fileExists(atPath: path) {
                    try writeConfigMap(source, volume: name, to: path, lookup: configMap)
                }
                paths[name] = path
            } else {
                throw ContainerConfigError(message: "volume \(name): type \(volume.sourceKind) is not supported by this node (use emptyDir, configMap or hostPath)")
            }
        }
        return paths
    }

    /// The container's mounts of those volumes; a subPath is staged beneath its volume by
    /// `subPaths` (see `SubPathStager`), and mounted from there.
    func mounts(for container: JSONValue, volumePaths: [String: String], subPaths: SubPathStager) throws -> [ContainerMount] {
        let container = Container(json: container)
        let containerName = container.name ?? ""
        return try container.volumeMounts.enumerated().map { index, mount in
            let name = mount.name ?? ""
            guard let source = volumePaths[name] else {
                throw ContainerConfigError(message: "container \(containerName): volumeMount \"\(name)\" names no volume of the pod")
            }
            guard let destination = mount.mountPath, destination.hasPrefix("/") else {
                throw ContainerConfigError(message: "container \(containerName): volumeMount \"\(name)\" needs an absolute mountPath")
            }
            var path = source
            if let subPath = mount.subPath, !subPath.isEmpty {
                path = try subPaths.stage(volume: name, root: source, subPath: subPath, container: containerName, index: index)
            }
            return ContainerMount(source: path, destination: destination, readOnly: mount.readOnly ?? false)
        }
    }

    /// The ConfigMap's keys (or its `items`) as files, written in a staging directory that is
    /// renamed into place, so a container never sees half of them.
    private func writeConfigMap(_ source: ConfigMapVolumeSource, volume: String, to path: String,
                                lookup: (_ namespace: String, _ name: String) throws -> [String: String]?) throws {
        let mapName = source.name ?? ""
        let namespace = pod.namespace ?? "default"
        guard let data = try lookup(namespace, mapName) else {
            if source.optional == true {
                try createDirectory(path, volume: volume)
                return
            }
            throw ContainerConfigError(message: "volume \(volume): configmap \"\(mapName)\" not found in namespace \(namespace)")
        }
        var files: [(path: String, content: String, mode: Int?)] = []
        if let items = source.items {
            for item in items {
                let key = item.key ?? ""
                guard let content = data[key] else {
                    throw ContainerConfigError(message: "volume \(volume): configmap \"\(mapName)\" has no key \"\(key)\"")
                }
                files.append((item.path ?? key, content, item.mode.map { Int($0) }))
            }
        } else {
            files = data.keys.sorted().map { ($0, data[$0]!, nil) }
        }
        let defaultMode = source.defaultMode.map { Int($0) } ?? 0o644
        let staging = "\(path).staging"
        try? FileManager.default.removeItem(atPath: staging)
        try createDirectory(staging, volume: volume)
        for file in files {
            guard !file.path.isEmpty, !file.path.hasPrefix("/"), !file.path.split(separator: "/").contains("..") else {
                throw ContainerConfigError(message: "volume \(volume): item path \"\(file.path)\" must be relative and stay inside the volume")
            }
            let target = "\(staging)/\(file.path)"
            try createDirectory((target as NSString).deletingLastPathComponent, volume: volume)
            guard FileManager.default.createFile(atPath: target, contents: Data(file.content.utf8),
                                                attributes: [.posixPermissions: file.mode ?? defaultMode]) else {
                throw ContainerConfigError(message: "volume \(volume): cannot write \(target)")
            }
        }
        guard rename(staging, path) == 0 else {
            throw ContainerConfigError(message: "volume \(volume): cannot move \(staging) into place: \(String(cString: strerror(errno)))")
        }
    }

    private func createDirectory(_ path: String, volume: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ContainerConfigError(message: "volume \(volume): cannot create \(path): \(error.localizedDescription)")
        }
    }
}
