import FairArchive
import Foundation
import Yams

/// The user's own kubeconfig (`$KUBECONFIG`'s first file, else `~/.kube/config`), into which
/// `fair server` merges a `fair` cluster, user and context, as kind, minikube and k3d do, so
/// kubectl and `fair train` find the server without being told. The context becomes current
/// only when none is; other entries are kept as they are; `remove` takes ours out again.
public struct UserKubeconfig {
    public static let entryName = "fair"

    public let path: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let list = environment["KUBECONFIG"], let first = list.split(separator: ":").first, !first.isEmpty {
            path = String(first)
        } else {
            path = "\(environment["HOME"] ?? NSHomeDirectory())/.kube/config"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What the merge did, for the message the server prints.
    public struct Outcome {
        public var path: String
        public var madeCurrent: Bool
        public var currentContext: String?
    }

    /// Adds or replaces the `fair` entries with those of the server's own kubeconfig.
    public func merge(from serverKubeconfig: String) throws -> Outcome {
        guard let ours = try Yams.load(yaml: try String(contentsOfFile: serverKubeconfig, encoding: .utf8)) as? [String: Any] else {
            throw Failure(description: "\(serverKubeconfig) is not a kubeconfig")
        }
        var config = try load()
        for key in ["clusters", "users", "contexts"] {
            var entries = (config[key] as? [[String: Any]] ?? []).filter { $0["name"] as? String != Self.entryName }
            entries += (ours[key] as? [[String: Any]] ?? []).map { entry in
                var renamed = entry
                renamed["name"] = Self.entryName
                return renamed
            }
            config[key] = entries
        }
        let current = (config["current-context"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        if current == nil { config["current-context"] = Self.entryName }
        try save(config)
        return Outcome(path: path, madeCurrent: current == nil || current == Self.entryName, currentContext: current)
    }

    /// Takes the `fair` entries out (and the current context, when it was ours). Nothing to do
    /// when the file or the entries are not there.
    @discardableResult
    public func remove() throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        var config = try load()
        var changed = false
        for key in ["clusters", "users", "contexts"] {
            let entries = config[key] as? [[String: Any]] ?? []
            let kept = entries.filter { $0["name"] as? String != Self.entryName }
            if kept.count != entries.count { changed = true }
            config[key] = kept
        }
        if config["current-context"] as? String == Self.entryName {
            config["current-context"] = ""
            changed = true
        }
        if changed { try save(config) }
        return changed
    }

    private func load() throws -> [String: Any] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return ["apiVersion": "v1", "kind": "Config", "preferences": [String: Any](), "clusters": [Any](), "users": [Any](),
                    "contexts": [Any](), "current-context": ""]
        }
        do {
            guard let config = try Yams.load(yaml: text) as? [String: Any] else {
                throw Failure(description: "\(path) is not a kubeconfig (not a YAML mapping); fix it or pass --kubeconfig-update=false")
            }
            return config
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "\(path) is not valid YAML (\(error)); fix it or pass --kubeconfig-update=false")
        }
    }

    /// Written whole by rename (never half a file), readable by its owner only: it holds tokens.
    private func save(_ config: [String: Any]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = try Yams.dump(object: config, sortKeys: true)
        try AtomicFile.write(to: path, bytes: Array(text.utf8), permissions: 0o600)
    }
}
