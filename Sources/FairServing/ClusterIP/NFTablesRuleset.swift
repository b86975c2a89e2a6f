#if canImport(Glibc)
import Glibc
#endif

/// The nftables table that makes a node's cluster IPs answer, written as one `nft -f` script
/// that replaces the whole table in one transaction (connections already made keep their
/// endpoint: the kernel's connection tracking remembers each one's rewrite).
///
/// The shape is kube-proxy's nftables mode: a `nat` chain on the `output` hook (pods share the
/// host's network, so every connection to a cluster IP starts on this host) looks the
/// destination up in a verdict map of cluster IP and port, the Service's chain picks one of its
/// endpoints at random (`numgen random`), and the endpoint's chain rewrites the destination.
/// A cluster IP with no ready endpoint has no element: nothing listens on the address, so a
/// connection is refused, as kube-proxy's reject does.
enum NFTablesRuleset {
    static func script(table: String, comment: String, rules: [ClusterIPRule]) -> String {
        var usable: [(rule: ClusterIPRule, endpoints: [Backend])] = []
        for rule in rules where isIPv4(rule.ip) && (1...65535).contains(rule.port) {
            let endpoints = rule.endpoints.filter { isIPv4($0.ip) && (1...65535).contains($0.port) }
            if !endpoints.isEmpty { usable.append((rule, endpoints)) }
        }
        // Declaring the table first makes the delete valid when it does not exist yet; both,
        // and the new table, are one transaction: no moment without rules.
        var lines = ["table ip \(table)", "delete table ip \(table)", "table ip \(table) {",
                     "  comment \"\(quoted(comment))\""]
        lines.append("  map services {")
        lines.append("    type ipv4_addr . inet_service : verdict")
        if !usable.isEmpty {
            let elements = usable.enumerated().map { index, entry in "\(entry.rule.ip) . \(entry.rule.port) : goto service_\(index)" }
            lines.append("    elements = { \(elements.joined(separator: ", ")) }")
        }
        lines.append("  }")
        lines.append("  chain output {")
        lines.append("    type nat hook output priority -100; policy accept;")
        lines.append("    ip daddr . tcp dport vmap @services")
        lines.append("  }")
        for (index, entry) in usable.enumerated() {
            let choices = entry.endpoints.indices.map { "\($0) : goto endpoint_\(index)_\($0)" }
            lines.append("  chain service_\(index) {")
            lines.append(entry.endpoints.count == 1
                ? "    goto endpoint_\(index)_0"
                : "    numgen random mod \(entry.endpoints.count) vmap { \(choices.joined(separator: ", ")) }")
            lines.append("  }")
            for (number, endpoint) in entry.endpoints.enumerated() {
                lines.append("  chain endpoint_\(index)_\(number) {")
                lines.append("    meta l4proto tcp dnat to \(endpoint.ip):\(endpoint.port)")
                lines.append("  }")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Only dotted IPv4 addresses reach the script: addresses come from objects any writer of
    /// Endpoints controls, and nothing else may become part of a rule.
    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    /// A comment names the node; anything but plain characters is dropped rather than escaped.
    private static func quoted(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || " .-_:/".unicodeScalars.contains($0)) }.prefix(120).map(Character.init))
    }
}
