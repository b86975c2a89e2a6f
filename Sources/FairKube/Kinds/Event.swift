import Foundation

extension KindDefinition {
    public static let event = KindDefinition(
        group: "", version: "v1", kind: "Event", plural: "events", namespaced: true, shortNames: ["ev"],
        selectableFields: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                           "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                           "reason", "reportingComponent", "source", "type"],
        columns: [
            TableColumn(name: "Last Seen") { object, now in .string(Self.lastSeen(object, now: now)) },
            .text("Type", "type", or: ""),
            .text("Reason", "reason", or: ""),
            TableColumn(name: "Object") { object, _ in
                .string("\(Printing.text(object, "involvedObject.kind", or: "").lowercased())/\(Printing.text(object, "involvedObject.name", or: ""))")
            },
            .text("Message", "message", or: ""),
        ])

    private static func lastSeen(_ object: JSONValue, now: Date) -> String {
        let last = KubeTime.parse(object["lastTimestamp"]) ?? KubeTime.parse(object["eventTime"])
            ?? KubeTime.parse(object.value(at: "metadata.creationTimestamp"))
        return last.map { Printing.humanDuration(now.timeIntervalSince($0)) } ?? "<unknown>"
    }
}

extension APIResource {
    public static let events = KindDefinition.event.resource
}
