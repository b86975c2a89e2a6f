extension KindDefinition {
    public static let endpoints = KindDefinition(
        group: "", version: "v1", kind: "Endpoints", plural: "endpoints", singular: "endpoints", namespaced: true, shortNames: ["ep"],
        columns: [.name, TableColumn(name: "Endpoints") { object, _ in .string(Self.endpointsText(object)) }, .age])

    /// kubectl's ENDPOINTS: `ip:port` pairs, the first three and a count of the rest.
    private static func endpointsText(_ object: JSONValue) -> String {
        var entries: [String] = []
        for subset in object["subsets"]?.arrayValue ?? [] {
            let ports = subset["ports"]?.arrayValue?.compactMap { $0["port"]?.intValue } ?? []
            for address in subset["addresses"]?.arrayValue ?? [] {
                guard let ip = address["ip"]?.stringValue else { continue }
                if ports.isEmpty { entries.append(ip) } else { entries += ports.map { "\(ip):\($0)" } }
            }
        }
        if entries.isEmpty { return "<none>" }
        return entries.count > 3 ? entries.prefix(3).joined(separator: ",") + " + \(entries.count - 3) more..." : entries.joined(separator: ",")
    }
}

extension APIResource {
    public static let endpoints = KindDefinition.endpoints.resource
}
