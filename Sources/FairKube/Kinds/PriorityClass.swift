/// A name for a scheduling priority (scheduling.k8s.io/v1). Stored, checked and printed; the
/// scheduler does not order or preempt by it yet.
extension KindDefinition {
    public static let priorityClass = KindDefinition(
        group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass", plural: "priorityclasses", namespaced: false,
        shortNames: ["pc"],
        defaults: { object in
            if object["preemptionPolicy"] == nil { object["preemptionPolicy"] = "PreemptLowerPriority" }
        },
        validate: { object in
            guard let value = object["value"]?.intValue else { return [FieldCause("value", "Required value")] }
            // kube's HighestUserDefinablePriority; higher values are kept for system classes.
            if value > 1_000_000_000 && !(object.name ?? "").hasPrefix("system-") {
                return [FieldCause("value", "Forbidden: maximum allowed value of a user defined priority is 1000000000")]
            }
            return []
        },
        columns: [
            .name,
            TableColumn(name: "Value", type: "integer") { object, _ in .int(Printing.int(object, "value")) },
            TableColumn(name: "Global-Default", type: "boolean") { object, _ in .bool(object["globalDefault"]?.boolValue ?? false) },
            .age,
            .text("PreemptionPolicy", "preemptionPolicy", or: ""),
        ])
}

extension APIResource {
    public static let priorityClasses = KindDefinition.priorityClass.resource
}
