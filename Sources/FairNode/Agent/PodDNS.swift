import FairKube
import Foundation

/// A pod's resolver configuration, as kubelet writes it from `dnsPolicy` and `dnsConfig`:
/// - `ClusterFirst` (the default): the cluster DNS, searching `NS.svc.DOMAIN svc.DOMAIN DOMAIN`
///   and then the host's search domains, `ndots:5`. Without a cluster DNS on this node, or for a
///   `hostNetwork` pod, it is `Default`, as in Kubernetes.
/// - `ClusterFirstWithHostNet`: the cluster DNS for `hostNetwork` pods too.
/// - `Default`: the host's resolver configuration as it is.
/// - `None`: only what `dnsConfig` says.
/// `dnsConfig` adds nameservers and search domains after the policy's (duplicates dropped) and
/// sets options by name. Also the pod's fully qualified name, when `subdomain` is set.
struct PodDNS: Equatable {
    var nameservers: [String] = []
    var searches: [String] = []
    var options: [(name: String, value: String?)] = []

    static func == (lhs: PodDNS, rhs: PodDNS) -> Bool {
        lhs.nameservers == rhs.nameservers && lhs.searches == rhs.searches
            && lhs.options.map(\.name) == rhs.options.map(\.name) && lhs.options.map(\.value) == rhs.options.map(\.value)
    }

    /// What kubelet allows (glibc reads at most 3 nameservers; 32 search domains since 1.28).
    static let maxNameservers = 3
    static let maxSearches = 32

    /// nil: the host's file unchanged (the `Default` policy without a `dnsConfig`).
    static func resolvConf(pod: JSONValue, clusterDNS: String?, clusterDomain: String, host: String) -> String? {
        let spec = pod["spec"] ?? [:]
        let policy = spec["dnsPolicy"]?.stringValue ?? "ClusterFirst"
        let hostNetwork = spec["hostNetwork"]?.boolValue ?? false
        let config = spec["dnsConfig"]
        var dns = PodDNS()
        switch policy {
        case "None":
            break
        case "ClusterFirst" where clusterDNS != nil && !hostNetwork, "ClusterFirstWithHostNet" where clusterDNS != nil:
            let namespace = pod.namespace ?? "default"
            let hostDNS = parse(host)
            dns.nameservers = [clusterDNS!]
            dns.searches = ["\(namespace).svc.\(clusterDomain)", "svc.\(clusterDomain)", clusterDomain] + hostDNS.searches
            dns.options = [("ndots", "5")]
        default:
            guard config != nil else { return nil }
            dns = parse(host)
        }
        if let config { dns.apply(config) }
        return dns.text
    }

    /// Reads the parts of a resolv.conf kubelet keeps: nameserver, search (or domain), options.
    static func parse(_ text: String) -> PodDNS {
        var dns = PodDNS()
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = fields.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            let values = Array(fields.dropFirst())
            switch keyword {
            case "nameserver": dns.nameservers += values.prefix(1)
            case "search", "domain": dns.searches = values
            case "options": for option in values { dns.setOption(option) }
            default: continue
            }
        }
        return dns
    }

    private mutating func apply(_ config: JSONValue) {
        for server in config["nameservers"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !nameservers.contains(server) {
            nameservers.append(server)
        }
        for search in config["searches"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !searches.contains(search) {
            searches.append(search)
        }
        for option in config["options"]?.arrayValue ?? [] {
            guard let name = option["name"]?.stringValue, !name.isEmpty else { continue }
            setOption(name, option["value"]?.stringValue)
        }
    }

    private mutating func setOption(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        setOption(parts[0], parts.count > 1 ? parts[1] : nil)
    }

    private mutating func setOption(_ name: String, _ value: String?) {
        if let index = options.firstIndex(where: { $0.name == name }) {
            options[index].value = value
        } else {
            options.append((name, value))
        }
    }

    var text: String {
        var lines: [String] = []
        if !searches.isEmpty { lines.append("search " + searches.prefix(Self.maxSearches).joined(separator: " ")) }
        lines += nameservers.prefix(Self.maxNameservers).map { "nameserver \($0)" }
        if !options.isEmpty { lines.append("options " + options.map { option in option.value.map { "\(option.name):\($0)" } ?? option.name }.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `HOSTNAME.SUBDOMAIN.NS.svc.DOMAIN` for a pod that set `subdomain` (its /etc/hosts names it
    /// so, as kubelet's does); nil otherwise.
    static func fullyQualifiedName(pod: JSONValue, hostname: String, clusterDomain: String) -> String? {
        guard let subdomain = pod.value(at: "spec.subdomain")?.stringValue, !subdomain.isEmpty else { return nil }
        return "\(hostname).\(subdomain).\(pod.namespace ?? "default").svc.\(clusterDomain)"
    }
}
