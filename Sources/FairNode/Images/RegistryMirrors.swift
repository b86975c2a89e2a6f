import FairRegistry
import Foundation

/// Mirrors of registries, as containerd's `hosts.toml` and CRI-O's `registries.conf` configure
/// them: images named on a registry (`busybox` is `docker.io/library/busybox`) are pulled from its
/// mirrors first, in order, by the same repository path, and from the registry itself last, so a
/// machine with no way out runs `busybox` from a local mirror seeded with `fair push`.
///
/// Written `REGISTRY=MIRROR[,MIRROR…]` (the flag `--registry-mirror`, or one per line of a file,
/// with `#` comments). A mirror is `HOST[:PORT]`, reached over HTTPS unless it is on loopback, or
/// `http://HOST[:PORT]` for plain HTTP.
public struct RegistryMirrors: Sendable, Equatable {
    /// Mirror hosts by the registry they stand in for.
    public private(set) var mirrors: [String: [String]] = [:]
    /// Mirrors named with `http://`.
    public private(set) var plainHTTPHosts: Set<String> = []

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Adds one `REGISTRY=MIRROR[,MIRROR…]`; `origin` names where it came from in errors.
    public mutating func add(_ text: String, origin: String = "--registry-mirror") throws {
        let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw Invalid(description: "\(origin) \(text): expected REGISTRY=MIRROR[,MIRROR…], e.g. docker.io=127.0.0.1:5000")
        }
        let registry = parts[0]
        guard !registry.contains("/"), registry.rangeOfCharacter(from: .whitespaces) == nil else {
            throw Invalid(description: "\(origin) \(text): \"\(registry)\" is not a registry host (such as docker.io or ghcr.io)")
        }
        for entry in parts[1].split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            var host = entry
            let plain = host.hasPrefix("http://")
            if plain {
                host.removeFirst("http://".count)
            } else if host.hasPrefix("https://") {
                host.removeFirst("https://".count)
            }
            if host.hasSuffix("/") { host.removeLast() }
            guard !host.isEmpty, !host.contains("/"), host.rangeOfCharacter(from: .whitespaces) == nil else {
                throw Invalid(description: "\(origin) \(text): \"\(entry)\" is not a mirror host (HOST[:PORT], or http://HOST[:PORT])")
            }
            if plain { plainHTTPHosts.insert(host) }
            mirrors[registry, default: []].append(host)
        }
    }

    /// Reads a file of `REGISTRY=MIRROR[,MIRROR…]` lines.
    public mutating func add(file path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid(description: "cannot read the registry mirrors file \(path): \(error.localizedDescription)")
        }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !content.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            try add(content, origin: "\(path):\(number + 1):")
        }
    }

    /// Where to pull an image of `registry` from: its mirrors in order, then the registry itself.
    public func candidates(for registry: String) -> [String] {
        (mirrors[registry] ?? []) + [registry]
    }
}
