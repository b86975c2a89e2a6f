import Foundation

/// How to reach a registry host: plain HTTP for loopback hosts and for hosts the user named as
/// insecure (`--insecure-registry`, `FAIR_INSECURE_REGISTRIES`), HTTPS for everything else.
public struct RegistryEndpoint: Sendable, Equatable {
    public var host: String
    public var scheme: String

    public init(host: String, insecureHosts: Set<String> = RegistryEndpoint.insecureHostsFromEnvironment()) {
        self.host = host
        self.scheme = Self.isLoopback(host) || insecureHosts.contains(host) ? "http" : "https"
    }

    public var baseURL: String { "\(scheme)://\(host)" }

    static func isLoopback(_ host: String) -> Bool {
        let name: String
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            name = String(host[host.index(after: host.startIndex)..<close])
        } else {
            name = String(host.split(separator: ":", maxSplits: 1).first ?? "")
        }
        return name == "localhost" || name == "::1" || name.hasPrefix("127.")
    }

    public static func insecureHostsFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Set<String> {
        Set((environment["FAIR_INSECURE_REGISTRIES"] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty })
    }
}
