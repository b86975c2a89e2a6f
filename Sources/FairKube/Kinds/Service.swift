extension KindDefinition {
    public static let service = KindDefinition(
        group: "", version: "v1", kind: "Service", plural: "services", namespaced: true,
        shortNames: ["svc"], categories: ["all"], subresources: ["status"], returnsDeletedObject: true,
        selectableFields: ["spec.clusterIP", "spec.type"],
        defaults: { object in
            if object.value(at: "spec.type") == nil { object.set("ClusterIP", at: ["spec", "type"]) }
        },
        columns: [
            .name,
            .text("Type", "spec.type", or: "ClusterIP"),
            .text("Cluster-IP", "spec.clusterIP", or: "<none>"),
            TableColumn(name: "External-IP") { _, _ in "<none>" },
            TableColumn(name: "Port(s)") { object, _ in .string(Self.ports(object)) },
            .age,
            TableColumn(name: "Selector", priority: 1) { object, _ in .string(Printing.selectorText(object.value(at: "spec.selector"))) },
        ],
        allocatedFields: [["spec", "clusterIP"], ["spec", "clusterIPs"]])

    private static func ports(_ service: JSONValue) -> String {
        let ports = (service.value(at: "spec.ports")?.arrayValue ?? []).map { port -> String in
            let number = port["port"]?.intValue ?? 0
            let proto = port["protocol"]?.stringValue ?? "TCP"
            if let nodePort = port["nodePort"]?.intValue { return "\(number):\(nodePort)/\(proto)" }
            return "\(number)/\(proto)"
        }
        return ports.isEmpty ? "<none>" : ports.joined(separator: ",")
    }
}

extension APIResource {
    public static let services = KindDefinition.service.resource
}
