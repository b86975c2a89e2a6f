import FairKube
import Foundation

/// A `projected` volume: the files of several sources in one directory, as kubelet makes it —
/// keys of ConfigMaps and Secrets, pod fields (`downwardAPI`), and a service-account token for
/// the pod (`serviceAccountToken`), which is what every pod's
/// `/var/run/secrets/kubernetes.io/serviceaccount` is made of.
struct ProjectedVolume {
    let pod: JSONValue
    let source: JSONValue
    let volume: String

    /// The files, and the mode of those that name none (0644 unless the pod says otherwise).
    func files(sources: ConfigSources, keys: (KeyProjection) throws -> [PodVolumes.File]?) throws -> (files: [PodVolumes.File], defaultMode: Int) {
        var files: [PodVolumes.File] = []
        for projection in source["sources"]?.arrayValue ?? [] {
            if let projection = KeyProjection(projected: projection) {
                files += try keys(projection) ?? []
            } else if let downward = projection["downwardAPI"] {
                files += try downwardFiles(downward)
            } else if let token = projection["serviceAccountToken"] {
                files.append(try tokenFile(token, sources: sources))
            } else {
                let kind = projection.objectValue?.keys.sorted().first ?? "unknown"
                throw ContainerConfigError(message: "volume \(volume): projected source \(kind) is not supported by this node (use configMap, secret, downwardAPI or serviceAccountToken)")
            }
        }
        return (files, source["defaultMode"]?.intValue.map { Int($0) } ?? 0o644)
    }

    /// The volume's `serviceAccountToken` sources, with the file each is written to.
    var tokenSources: [(path: String, json: JSONValue)] {
        (source["sources"]?.arrayValue ?? []).compactMap { projection in
            guard let token = projection["serviceAccountToken"], let path = token["path"]?.stringValue, !path.isEmpty else { return nil }
            return (path, token)
        }
    }

    func tokenFile(_ token: JSONValue, sources: ConfigSources) throws -> PodVolumes.File {
        guard let path = token["path"]?.stringValue, !path.isEmpty else {
            throw ContainerConfigError(message: "volume \(volume): serviceAccountToken needs a path")
        }
        guard let issue = sources.token else {
            throw ContainerConfigError(message: "volume \(volume): this node cannot ask for service-account tokens")
        }
        let ask = ConfigSources.TokenAsk(
            namespace: pod.namespace ?? "default",
            serviceAccount: Pod(json: pod).spec.serviceAccountName ?? KindDefinition.defaultServiceAccountName,
            podName: pod.name ?? "", podUID: pod.uid ?? "",
            audience: token["audience"]?.stringValue ?? "",
            expirationSeconds: token["expirationSeconds"]?.intValue ?? 3600)
        do {
            return PodVolumes.File(path: path, content: Array(try issue(ask).utf8), mode: nil)
        } catch {
            throw ContainerConfigError(message: "volume \(volume): cannot get a token for service account \(ask.namespace)/\(ask.serviceAccount): \(error)")
        }
    }

    /// `downwardAPI` items of pod fields (`metadata.name`, `metadata.labels`, …), written as
    /// kubelet writes them (labels and annotations one `key="value"` per line, sorted).
    private func downwardFiles(_ downward: JSONValue) throws -> [PodVolumes.File] {
        try (downward["items"]?.arrayValue ?? []).map { item in
            let path = item["path"]?.stringValue ?? ""
            guard let field = item.value(at: "fieldRef.fieldPath")?.stringValue else {
                throw ContainerConfigError(message: "volume \(volume): downwardAPI item \"\(path)\" needs a fieldRef (resourceFieldRef is not supported in volumes by this node)")
            }
            let metadata = pod.metadata
            let value: String
            switch field {
            case "metadata.name": value = pod.name ?? ""
            case "metadata.namespace": value = pod.namespace ?? ""
            case "metadata.uid": value = pod.uid ?? ""
            case "metadata.labels": value = Self.formatMap(metadata.labels)
            case "metadata.annotations": value = Self.formatMap(metadata.annotations)
            default:
                throw ContainerConfigError(message: "volume \(volume): downwardAPI fieldRef \"\(field)\" is not supported (use metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations)")
            }
            return PodVolumes.File(path: path, content: Array(value.utf8), mode: item["mode"]?.intValue.map { Int($0) })
        }
    }

    private static func formatMap(_ map: [String: String]) -> String {
        map.keys.sorted().map { key in
            let escaped = map[key]!.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\(key)=\"\(escaped)\""
        }.joined(separator: "\n")
    }
}

extension KeyProjection {
    /// A `configMap` or `secret` source of a projected volume (both name their object `name`).
    init?(projected: JSONValue) {
        if let source = projected["configMap"] {
            self.init(kind: .configMap, source: source)
        } else if let source = projected["secret"] {
            self.init(kind: .secret, source: source)
        } else {
            return nil
        }
    }

    private init(kind: ConfigKind, source: JSONValue) {
        self.init(kind: kind, name: source["name"]?.stringValue ?? "",
                  items: source["items"]?.arrayValue.map { $0.map { KeyToPath(json: $0) } },
                  defaultMode: 0o644, optional: source["optional"]?.boolValue ?? false)
    }
}
