import FairKube
import Foundation

/// Data a training container mounts: `--mount SOURCE:PATH[:ro|:rw]`, where SOURCE is a directory
/// or file of this machine (a hostPath, so only on this machine's own fair server; read-only
/// unless `:rw`) or `pvc:NAME`, a PersistentVolumeClaim in the Job's namespace (read-write unless
/// `:ro`), which works on any cluster.
public struct WorkloadMount: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case host(String)
        case claim(String)
    }

    public var source: Source
    public var path: String
    public var readOnly: Bool

    public init(source: Source, path: String, readOnly: Bool) {
        self.source = source
        self.path = path
        self.readOnly = readOnly
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Paths a mount may not take: fair's own (the model directory and tools) and the system's.
    static let reservedPaths = ["/", "/model", "/opt/fair/tools", "/proc", "/sys", "/dev", "/etc", "/var/run/secrets"]

    /// Parses one `--mount` value; a relative host path is taken from `workingDirectory`.
    public init(parsing text: String, workingDirectory: String = FileManager.default.currentDirectoryPath) throws {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var readOnly: Bool?
        if let last = parts.last, last == "ro" || last == "rw", parts.count > 2 {
            readOnly = last == "ro"
            parts.removeLast()
        }
        let usage = "--mount \(text): expected SOURCE:PATH[:ro|:rw] (a local directory, or pvc:CLAIM) with an absolute PATH in the container"
        if parts.first == "pvc" {
            guard parts.count == 3, !parts[1].isEmpty else { throw Invalid(description: usage) }
            guard KubernetesNameRules.isDNSSubdomain(parts[1]) else {
                throw Invalid(description: "--mount \(text): \"\(parts[1])\" is not a valid claim name (lower-case letters, digits, '-' and '.')")
            }
            source = .claim(parts[1])
            self.readOnly = readOnly ?? false
        } else {
            guard parts.count == 2, !parts[0].isEmpty else { throw Invalid(description: usage) }
            let local = URL(fileURLWithPath: parts[0], relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true)).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: local) else {
                throw Invalid(description: "--mount \(text): \(local) does not exist")
            }
            source = .host(local)
            self.readOnly = readOnly ?? true
        }
        path = parts.last ?? ""
        guard path.hasPrefix("/"), !path.contains("/../"), !path.hasSuffix("/.."), !path.contains(":") else { throw Invalid(description: usage) }
        let normalized = URL(fileURLWithPath: path).standardizedFileURL.path
        if let reserved = Self.reservedPaths.first(where: { normalized == $0 || ($0 != "/" && normalized.hasPrefix($0 + "/")) }) {
            throw Invalid(description: "--mount \(text): \(normalized) is \(reserved == normalized ? "" : "under ")\(reserved), which the container needs for itself; choose another path such as /data")
        }
        path = normalized
    }

    /// The name of its volume in the pod.
    func volumeName(index: Int) -> String { "mount-\(index)" }

    /// Checks a set of mounts against each other: one mount per container path.
    public static func check(_ mounts: [WorkloadMount]) throws {
        var seen: Set<String> = []
        for mount in mounts where !seen.insert(mount.path).inserted {
            throw Invalid(description: "--mount: \(mount.path) is mounted twice")
        }
    }

    /// Checks that `rendered` mounts every requested path in a container running `image`.
    static func check(_ mounts: [WorkloadMount], in rendered: JSONValue, image: String, source: String) throws {
        guard !mounts.isEmpty else { return }
        let spec = rendered.value(at: "spec.template.spec")
        let containers = (spec?["initContainers"]?.arrayValue ?? []) + (spec?["containers"]?.arrayValue ?? [])
        let paths = Set(containers.filter { $0["image"]?.stringValue == image }
            .flatMap { ($0["volumeMounts"]?.arrayValue ?? []).compactMap { $0["mountPath"]?.stringValue } })
        let missing = mounts.map(\.path).filter { !paths.contains($0) }
        if !missing.isEmpty {
            throw TrainingJob.Invalid(description: "\(source) does not mount \(missing.joined(separator: ", ")) asked for with --mount: give its container `volumeMounts` and the pod `volumes` from {{#mounts}}, as the built-in template does")
        }
    }

    /// `mounts` ({volumeName, mountPath, readOnly, hostPath or claimName}) for the templates.
    static func templateValues(_ mounts: [WorkloadMount]) -> [String: Any] {
        ["mounts": mounts.enumerated().map { index, mount -> [String: Any] in
            var values: [String: Any] = ["volumeName": mount.volumeName(index: index), "mountPath": mount.path, "readOnly": mount.readOnly]
            switch mount.source {
            case let .host(path):
                values["hostPath"] = path
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                values["hostPathType"] = isDirectory.boolValue ? "Directory" : "File"
            case let .claim(name): values["claimName"] = name
            }
            return values
        }]
    }
}
