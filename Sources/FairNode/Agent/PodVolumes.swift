import FairKube
import Foundation

/// The host directories behind a pod's volumes: emptyDir under `DATA/pods/<uid>/volumes/<name>`
/// (removed with the pod), hostPath as given. Other volume types need API objects this cluster
/// does not have and are refused with a message naming the volume.
struct PodVolumes {
    let pod: JSONValue
    let volumesDirectory: String

    /// Host path of every volume, created when needed.
    func prepare() throws -> [String: String] {
        var paths: [String: String] = [:]
        for volume in pod.value(at: "spec.volumes")?.arrayValue ?? [] {
            guard let name = volume["name"]?.stringValue, !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw ContainerConfigError(message: "pod \(pod.name ?? ""): a volume has no valid name")
            }
            if volume["emptyDir"] != nil {
                let path = "\(volumesDirectory)/\(name)"
                try createDirectory(path, volume: name)
                paths[name] = path
            } else if let hostPath = volume["hostPath"]?["path"]?.stringValue {
                guard hostPath.hasPrefix("/") else {
                    throw ContainerConfigError(message: "volume \(name): hostPath \"\(hostPath)\" must be an absolute path")
                }
                let type = volume["hostPath"]?["type"]?.stringValue ?? ""
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
            } else {
                let kind = volume.objectValue?.keys.first { $0 != "name" } ?? "unknown"
                throw ContainerConfigError(message: "volume \(name): type \(kind) is not supported by this node (use emptyDir or hostPath)")
            }
        }
        return paths
    }

    /// The container's mounts of those volumes (with subPath resolved inside the volume).
    func mounts(for container: JSONValue, volumePaths: [String: String]) throws -> [ContainerMount] {
        let containerName = container["name"]?.stringValue ?? ""
        return try (container["volumeMounts"]?.arrayValue ?? []).map { mount in
            let name = mount["name"]?.stringValue ?? ""
            guard let source = volumePaths[name] else {
                throw ContainerConfigError(message: "container \(containerName): volumeMount \"\(name)\" names no volume of the pod")
            }
            guard let destination = mount["mountPath"]?.stringValue, destination.hasPrefix("/") else {
                throw ContainerConfigError(message: "container \(containerName): volumeMount \"\(name)\" needs an absolute mountPath")
            }
            var path = source
            if let subPath = mount["subPath"]?.stringValue, !subPath.isEmpty {
                guard !subPath.hasPrefix("/"), !subPath.split(separator: "/").contains("..") else {
                    throw ContainerConfigError(message: "container \(containerName): subPath \"\(subPath)\" must be relative and stay inside volume \(name)")
                }
                path = "\(source)/\(subPath)"
                if !FileManager.default.fileExists(atPath: path) { try createDirectory(path, volume: name) }
            }
            return ContainerMount(source: path, destination: destination, readOnly: mount["readOnly"]?.boolValue ?? false)
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
