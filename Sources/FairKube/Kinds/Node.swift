extension KindDefinition {
    public static let node = KindDefinition(
        group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false,
        shortNames: ["no"], subresources: ["status"], selectableFields: ["spec.unschedulable"],
        columns: [
            .name,
            TableColumn(name: "Status") { object, _ in .string(Self.nodeStatus(object)) },
            TableColumn(name: "Roles") { _, _ in "<none>" },
            .age,
            .text("Version", "status.nodeInfo.kubeletVersion", or: ""),
            TableColumn(name: "Internal-IP", priority: 1) { object, _ in .string(Self.address(object, "InternalIP")) },
            .text("OS-Image", "status.nodeInfo.osImage", or: "<unknown>", priority: 1),
            .text("Kernel-Version", "status.nodeInfo.kernelVersion", or: "<unknown>", priority: 1),
            .text("Container-Runtime", "status.nodeInfo.containerRuntimeVersion", or: "<unknown>", priority: 1),
        ])

    private static func nodeStatus(_ node: JSONValue) -> String {
        let ready = (node.value(at: "status.conditions")?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
        var status = ready?["status"]?.stringValue == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
        if node.value(at: "spec.unschedulable")?.boolValue == true { status += ",SchedulingDisabled" }
        return status
    }

    private static func address(_ node: JSONValue, _ type: String) -> String {
        (node.value(at: "status.addresses")?.arrayValue ?? []).first { $0["type"]?.stringValue == type }?["address"]?.stringValue ?? "<none>"
    }
}

extension APIResource {
    public static let nodes = KindDefinition.node.resource
}
