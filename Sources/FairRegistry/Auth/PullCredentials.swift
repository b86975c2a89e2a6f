import Foundation

/// Registry credentials a pod brings with its `imagePullSecrets`: the `auths` of each Secret's
/// `.dockerconfigjson` (or the older `.dockercfg`, a map of the same entries), as kubelet reads
/// them. Keys may be written `host`, `host:port`, `https://host/v1/` or with a path; a host
/// matches the entry naming exactly it, the first Secret's entry winning, as kubelet tries the
/// pod's secrets in order.
public struct PullCredentials: Sendable, Equatable {
    public private(set) var byHost: [String: Credentials] = [:]

    public static let none = PullCredentials()

    public init() {}

    /// From the decoded contents of pull secrets, in the pod's order. Entries that are not
    /// credentials are skipped: a malformed secret must not stop the pod's other sources.
    public init(dockerConfigs: [[UInt8]]) {
        for bytes in dockerConfigs {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { continue }
            let entries = (object["auths"] as? [String: Any]) ?? object
            for (key, value) in entries {
                guard let entry = value as? [String: Any], let credentials = Self.credentials(entry) else { continue }
                for host in Self.hosts(forKey: key) where byHost[host] == nil { byHost[host] = credentials }
            }
        }
    }

    public var isEmpty: Bool { byHost.isEmpty }

    public func credentials(for host: String) -> Credentials? {
        Self.hosts(forKey: host).first.flatMap { byHost[$0] }
    }

    private static func credentials(_ entry: [String: Any]) -> Credentials? {
        if let encoded = entry["auth"] as? String, !encoded.isEmpty,
           let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
           let colon = text.firstIndex(of: ":") {
            return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
        if let username = entry["username"] as? String, let password = entry["password"] as? String {
            return Credentials(username: username, password: password)
        }
        return nil
    }

    /// `https://host:5000/v1/` → `host:5000`; Docker Hub's names all mean `docker.io`.
    static func hosts(forKey key: String) -> [String] {
        var host = key
        if let scheme = host.range(of: "://") { host = String(host[scheme.upperBound...]) }
        if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
        host = host.lowercased()
        if ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(host) { return ["docker.io"] }
        return host.isEmpty ? [] : [host]
    }
}
