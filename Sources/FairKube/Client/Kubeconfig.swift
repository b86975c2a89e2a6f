import Foundation
import Yams

/// A kubeconfig resolved to one context: where the API server is, how to trust it, and who we
/// are. Read the way kubectl reads it (`KUBECONFIG`, else `~/.kube/config`; the current context
/// unless one is named), so fair talks to whatever cluster kubectl talks to.
public struct Kubeconfig: Sendable, Equatable {
    public var server: String
    /// PEM of the certificate authority to trust, when the cluster names one.
    public var certificateAuthorityPEM: String?
    public var token: String?
    /// `insecure-skip-tls-verify: true`: the server's certificate is not checked.
    public var skipsTLSVerify = false
    /// PEM of a client certificate and its key (`client-certificate[-data]`, `client-key[-data]`).
    public var clientCertificatePEM: String?
    public var clientKeyPEM: String?
    public var namespace: String
    public var context: String

    public init(server: String, certificateAuthorityPEM: String? = nil, token: String? = nil, namespace: String = "default", context: String = "") {
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.token = token
        self.namespace = namespace
        self.context = context
    }

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The path kubectl would use.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let list = environment["KUBECONFIG"], let first = list.split(separator: ":").first { return String(first) }
        return "\(environment["HOME"] ?? NSHomeDirectory())/.kube/config"
    }

    public static func load(path: String? = nil, context wanted: String? = nil) throws -> Kubeconfig {
        let file = path ?? defaultPath()
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw LoadError(description: "cannot read kubeconfig \(file) (start `fair server`, or set KUBECONFIG)")
        }
        guard let root = try Yams.load(yaml: text) as? [String: Any] else {
            throw LoadError(description: "\(file) is not a kubeconfig (not a YAML mapping)")
        }
        func named(_ key: String, _ name: String) -> [String: Any]? {
            (root[key] as? [[String: Any]])?.first { $0["name"] as? String == name }
        }
        guard let contextName = wanted ?? root["current-context"] as? String, !contextName.isEmpty else {
            throw LoadError(description: "\(file) has no current-context; name one with --context")
        }
        guard let context = named("contexts", contextName)?["context"] as? [String: Any] else {
            throw LoadError(description: "\(file) has no context \"\(contextName)\"")
        }
        let clusterName = context["cluster"] as? String ?? ""
        guard let cluster = named("clusters", clusterName)?["cluster"] as? [String: Any], let server = cluster["server"] as? String else {
            throw LoadError(description: "\(file): context \"\(contextName)\" names cluster \"\(clusterName)\", which has no server")
        }
        var config = Kubeconfig(server: server, namespace: context["namespace"] as? String ?? "default", context: contextName)
        let directory = (file as NSString).deletingLastPathComponent
        func relative(_ path: String) -> String { path.hasPrefix("/") ? path : "\(directory)/\(path)" }
        if let data = cluster["certificate-authority-data"] as? String {
            guard let decoded = Data(base64Encoded: data).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw LoadError(description: "\(file): certificate-authority-data of cluster \"\(clusterName)\" is not base64 PEM")
            }
            config.certificateAuthorityPEM = decoded
        } else if let path = cluster["certificate-authority"] as? String {
            config.certificateAuthorityPEM = try String(contentsOfFile: relative(path), encoding: .utf8)
        }
        config.skipsTLSVerify = (cluster["insecure-skip-tls-verify"] as? Bool) == true
        /// `NAME-data` (base64 PEM) or `NAME` (a file, relative to the kubeconfig).
        func pem(_ fields: [String: Any], _ name: String, of owner: String) throws -> String? {
            if let data = fields["\(name)-data"] as? String {
                guard let decoded = Data(base64Encoded: data).flatMap({ String(data: $0, encoding: .utf8) }) else {
                    throw LoadError(description: "\(file): \(name)-data of \(owner) is not base64 PEM")
                }
                return decoded
            }
            guard let path = fields[name] as? String else { return nil }
            do {
                return try String(contentsOfFile: relative(path), encoding: .utf8)
            } catch {
                throw LoadError(description: "\(file): cannot read \(name) \(relative(path)) of \(owner)")
            }
        }
        if let userName = context["user"] as? String, let user = named("users", userName)?["user"] as? [String: Any] {
            if let token = user["token"] as? String {
                config.token = token
            } else if let tokenFile = user["tokenFile"] as? String {
                config.token = try String(contentsOfFile: relative(tokenFile), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            config.clientCertificatePEM = try pem(user, "client-certificate", of: "user \"\(userName)\"")
            config.clientKeyPEM = try pem(user, "client-key", of: "user \"\(userName)\"")
            if (config.clientCertificatePEM == nil) != (config.clientKeyPEM == nil) {
                throw LoadError(description: "\(file): user \"\(userName)\" has a client certificate without its key, or a key without its certificate")
            }
            if config.token == nil && config.clientCertificatePEM == nil && user["exec"] != nil {
                throw LoadError(description: "\(file): user \"\(userName)\" authenticates with an exec plugin, which fair does not run; use a token or a client certificate")
            }
        }
        return config
    }
}
