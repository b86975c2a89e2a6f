import FairKube
import Foundation

/// The host directories behind a pod's volumes: emptyDir under `DATA/pods/<uid>/volumes/<name>`
/// (removed with the pod), configMap, secret and projected as files written there once, when the
/// pod first needs them (later changes reach new pods only), hostPath as given, a claim's volume at
/// its PersistentVolume's path. Other volume types are
/// refused with a message naming the volume. The node's data directory is 0700, so other local
/// users cannot read a Secret's files; inside the pod they have the modes the pod asked for.
struct PodVolumes {
    let pod: JSONValue
    let volumesDirectory: String
    /// The keys of the pod's ConfigMaps and Secrets.
    var sources: ConfigSources? = nil

    /// Whether `prepare` renews projected tokens that are due (not for a pod that has finished).
    var renewsTokens = true
    /// When the earliest projected token of the pod is due for renewal (set by `prepare`).
    private(set) var nextTokenRefresh: Date?

    /// Host path of every volume, created when needed; projected tokens renewed when due.
    mutating func prepare(now: Date = Date()) throws -> [String: String] {
        nextTokenRefresh = nil
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
            } else if let claim = volume.json.value(at: "persistentVolumeClaim.claimName")?.stringValue {
                guard let claimedPath = sources?.claimedPath else {
                    throw ContainerConfigError(message: "volume \(name): this node cannot read claims")
                }
                let path = try claimedPath(pod.namespace ?? "default", claim)
                guard path.hasPrefix("/") else {
                    throw ContainerConfigError(message: "volume \(name): the path \"\(path)\" of claim \"\(claim)\" must be absolute")
                }
                // A volume's directory may be gone from the host (a hostPath volume that names a new place).
                if !FileManager.default.fileExists(atPath: path) {
                    try createDirectory(path, volume: name)
                    chmod(path, 0o777)
                }
                paths[name] = path
            } else if let sources, let projection = KeyProjection(volume) {
                let path = "\(volumesDirectory)/\(name)"
                if !FileManager.default.fileExists(atPath: path) {
                    let files = try keyFiles(projection, volume: name, sources: sources) ?? []
                    try writeFiles(files, defaultMode: projection.defaultMode, volume: name, to: path)
                }
                paths[name] = path
            } else if let sources, let projected = volume.json["projected"] {
                let path = "\(volumesDirectory)/\(name)"
                let projectedVolume = ProjectedVolume(pod: pod, source: projected, volume: name)
                if !FileManager.default.fileExists(atPath: path) {
                    let volumeFiles = try projectedVolume.files(sources: sources) { projection in
                        try keyFiles(projection, volume: name, sources: sources)
                    }
                    try writeFiles(volumeFiles.files, defaultMode: volumeFiles.defaultMode, volume: name, to: path)
                }
                if renewsTokens { try renewTokens(projectedVolume, in: path, sources: sources, now: now) }
                paths[name] = path
            } else {
                throw ContainerConfigError(message: "volume \(name): type \(volume.sourceKind) is not supported by this node (use emptyDir, configMap, secret, projected, persistentVolumeClaim or hostPath)")
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
            return ContainerMount(source: path, destination: destination, readOnly: (mount.readOnly ?? false) || readOnlyClaims.contains(name))
        }
    }

    /// Renews each token of a projected volume that is due (`ProjectedTokenRefresh`), in place:
    /// a new file renamed over the old, so a reader sees one token or the other, never half.
    private mutating func renewTokens(_ volume: ProjectedVolume, in path: String, sources: ConfigSources, now: Date) throws {
        for source in volume.tokenSources {
            let file = "\(path)/\(source.path)"
            var due = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap(ProjectedTokenRefresh.due)
            if due == nil || due! <= now {
                let renewed = try volume.tokenFile(source.json, sources: sources)
                let mode = ((try? FileManager.default.attributesOfItem(atPath: file))?[.posixPermissions] as? Int) ?? 0o644
                let staging = file + ".renewing"
                guard FileManager.default.createFile(atPath: staging, contents: Data(renewed.content), attributes: [.posixPermissions: mode]),
                      rename(staging, file) == 0 else {
                    throw ContainerConfigError(message: "volume \(volume.volume): cannot renew the token at \(source.path)")
                }
                due = ProjectedTokenRefresh.due(String(decoding: renewed.content, as: UTF8.self))
            }
            if let due, nextTokenRefresh.map({ due < $0 }) ?? true { nextTokenRefresh = due }
        }
    }

    /// Claims the pod mounts `readOnly` everywhere (`persistentVolumeClaim.readOnly`).
    private var readOnlyClaims: Set<String> {
        Set(Pod(json: pod).spec.volumes.compactMap { volume in
            volume.json.value(at: "persistentVolumeClaim.readOnly")?.boolValue == true ? volume.name : nil
        })
    }

    /// One file of a volume made of keys: its path inside the volume, its bytes, and its mode
    /// (nil: the volume's default).
    struct File {
        var path: String
        var content: [UInt8]
        var mode: Int?
    }

    /// The keys (or the `items`) of a ConfigMap or Secret as files; nil when an optional object
    /// is missing.
    func keyFiles(_ source: KeyProjection, volume: String, sources: ConfigSources) throws -> [File]? {
        let objectName = source.name
        let namespace = pod.namespace ?? "default"
        guard let data = try sources.read(source.kind, namespace, objectName) else {
            if source.optional { return nil }
            throw ContainerConfigError(message: "volume \(volume): \(source.kind.lowercased) \"\(objectName)\" not found in namespace \(namespace)")
        }
        guard let items = source.items else {
            return data.keys.sorted().map { File(path: $0, content: data[$0]!, mode: nil) }
        }
        var files: [File] = []
        for item in items {
            let key = item.key ?? ""
            guard let content = data[key] else {
                // A missing key of an optional source is left out, as kubelet does.
                if source.optional { continue }
                throw ContainerConfigError(message: "volume \(volume): \(source.kind.lowercased) \"\(objectName)\" has no key \"\(key)\"")
            }
            files.append(File(path: item.path ?? key, content: content, mode: item.mode.map { Int($0) }))
        }
        return files
    }

    /// Writes the files in a staging directory that is renamed into place, so a container
    /// never sees half of them.
    private func writeFiles(_ files: [File], defaultMode: Int, volume: String, to path: String) throws {
        let staging = "\(path).staging"
        try? FileManager.default.removeItem(atPath: staging)
        try createDirectory(staging, volume: volume)
        for file in files {
            guard !file.path.isEmpty, !file.path.hasPrefix("/"), !file.path.split(separator: "/").contains("..") else {
                throw ContainerConfigError(message: "volume \(volume): item path \"\(file.path)\" must be relative and stay inside the volume")
            }
            let target = "\(staging)/\(file.path)"
            try createDirectory((target as NSString).deletingLastPathComponent, volume: volume)
            guard FileManager.default.createFile(atPath: target, contents: Data(file.content),
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

/// A configMap or secret volume: which object, which keys, and the modes.
struct KeyProjection {
    let kind: ConfigKind
    let name: String
    let items: [KeyToPath]?
    /// 0644 unless the pod says otherwise, for both kinds (kube's defaults).
    let defaultMode: Int
    let optional: Bool

    init(kind: ConfigKind, name: String, items: [KeyToPath]?, defaultMode: Int, optional: Bool) {
        (self.kind, self.name, self.items, self.defaultMode, self.optional) = (kind, name, items, defaultMode, optional)
    }

    init?(_ volume: Volume) {
        if let source = volume.configMap {
            (kind, name, items) = (.configMap, source.name ?? "", source.items)
            (defaultMode, optional) = (source.defaultMode.map { Int($0) } ?? 0o644, source.optional ?? false)
        } else if let source = volume.secret {
            (kind, name, items) = (.secret, source.secretName ?? "", source.items)
            (defaultMode, optional) = (source.defaultMode.map { Int($0) } ?? 0o644, source.optional ?? false)
        } else {
            return nil
        }
    }
}
