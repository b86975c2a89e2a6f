import FairArchive
import Foundation

/// Docker's client configuration (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`):
/// where `docker login`, podman, skopeo and crane keep registry credentials. fair reads and writes
/// the same file the same way, so a login with any of them works for all of them.
public struct DockerConfig {
    public let path: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let directory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.docker"
        path = "\(directory)/config.json"
    }

    public init(path: String) { self.path = path }

    /// The keys docker may have stored a host's credentials under.
    static func keys(for host: String) -> [String] {
        if host == RegistryReference.dockerHub || host == "index.docker.io" || host == "registry-1.docker.io" {
            return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        }
        return [host, "https://\(host)", "http://\(host)", "https://\(host)/v1/", "https://\(host)/v2/"]
    }

    static func storeKey(for host: String) -> String {
        host == RegistryReference.dockerHub ? "https://index.docker.io/v1/" : host
    }

    private func load() throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryError.config(path: path, reason: "not readable")
        }
        if data.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RegistryError.config(path: path, reason: "not a JSON object")
        }
        return object
    }

    /// Credentials for `host`: a credential helper named for the host (`credHelpers`), else the
    /// default store (`credsStore`), else the file's own `auths`.
    public func credentials(for host: String) throws -> Credentials? {
        let config = try load()
        let helpers = config["credHelpers"] as? [String: String] ?? [:]
        for key in Self.keys(for: host) {
            if let helper = helpers[key] { return try CredentialHelper(name: helper).get(serverURL: key) }
        }
        if let store = config["credsStore"] as? String, !store.isEmpty {
            for key in Self.keys(for: host) {
                if let found = try CredentialHelper(name: store).get(serverURL: key) { return found }
            }
        }
        let auths = config["auths"] as? [String: Any] ?? [:]
        for key in Self.keys(for: host) {
            guard let entry = auths[key] as? [String: Any] else { continue }
            if let encoded = entry["auth"] as? String, !encoded.isEmpty {
                guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
                      let colon = text.firstIndex(of: ":") else {
                    throw RegistryError.config(path: path, reason: "auths[\"\(key)\"].auth is not base64 of user:password")
                }
                return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            }
            if let user = entry["username"] as? String, let password = entry["password"] as? String {
                return Credentials(username: user, password: password)
            }
        }
        return nil
    }

    /// Saves credentials as `docker login` does: through the host's helper or the default store
    /// when one is configured, else base64 in `auths` of a file only the user can read.
    public func store(_ credentials: Credentials, for host: String) throws {
        var config = try load()
        let key = Self.storeKey(for: host)
        let helpers = config["credHelpers"] as? [String: String] ?? [:]
        if let helper = helpers[key] ?? (config["credsStore"] as? String).flatMap({ $0.isEmpty ? nil : $0 }) {
            try CredentialHelper(name: helper).store(serverURL: key, credentials: credentials)
            var auths = config["auths"] as? [String: Any] ?? [:]
            auths[key] = [String: Any]()
            config["auths"] = auths
        } else {
            var auths = config["auths"] as? [String: Any] ?? [:]
            auths[key] = ["auth": Array("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()]
            config["auths"] = auths
        }
        try save(config)
    }

    /// Forgets a host's credentials; returns false when there were none.
    @discardableResult
    public func erase(host: String) throws -> Bool {
        var config = try load()
        var found = false
        let helpers = config["credHelpers"] as? [String: String] ?? [:]
        let key = Self.storeKey(for: host)
        if let helper = helpers[key] ?? (config["credsStore"] as? String).flatMap({ $0.isEmpty ? nil : $0 }) {
            found = try CredentialHelper(name: helper).erase(serverURL: key) || found
        }
        var auths = config["auths"] as? [String: Any] ?? [:]
        for candidate in Self.keys(for: host) where auths[candidate] != nil {
            auths[candidate] = nil
            found = true
        }
        config["auths"] = auths
        try save(config)
        return found
    }

    private func save(_ config: [String: Any]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(to: path) { temporary in
            let sink = try FileSink(path: temporary)
            try sink.write(Array(data) + [UInt8(ascii: "\n")])
            try sink.finish()
            chmod(temporary, 0o600)
        }
    }
}
