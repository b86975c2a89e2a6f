import FairKube

/// What one write changed, field by field: the paths it added, modified and removed. An
/// update's manager comes to own what it added and modified; other managers lose those fields.
struct FieldChanges {
    var added = FieldSet()
    var modified = FieldSet()
    var removed = FieldSet()

    var changed: FieldSet { added.union(modified) }
    var isEmpty: Bool { added.isEmpty && modified.isEmpty && removed.isEmpty }

    init(from old: JSONValue?, to new: JSONValue?, _ type: ApplyType, schema: ApplySchema) throws {
        var path: [PathElement] = []
        try compare(old, new, type, schema, &path)
    }

    private mutating func compare(_ old: JSONValue?, _ new: JSONValue?, _ type: ApplyType, _ schema: ApplySchema,
                                  _ path: inout [PathElement]) throws {
        // A null is no value, as for the typed objects Kubernetes compares.
        let old = old?.isNull == true ? nil : old
        let new = new?.isNull == true ? nil : new
        guard old != nil || new != nil else { return }
        let shapeOld = old.map { FieldShape(of: $0, type) }
        let shapeNew = new.map { FieldShape(of: $0, type) }
        switch (shapeOld ?? shapeNew!, shapeNew ?? shapeOld!) {
        case let (.fields(objectType), .fields):
            let oldMembers = old?.objectValue ?? [:], newMembers = new?.objectValue ?? [:]
            if oldMembers.isEmpty && newMembers.isEmpty { return }
            // A map that appears or goes is itself added or removed (a struct is only its fields).
            if FieldShape.isMap(type), !path.isEmpty {
                if oldMembers.isEmpty { added.insert(path) } else if newMembers.isEmpty { removed.insert(path) }
            }
            for name in Set(oldMembers.keys).union(newMembers.keys) {
                let (childType, _) = FieldShape.field(name, of: objectType, in: schema)
                path.append(.field(name))
                defer { path.removeLast() }
                try compare(oldMembers[name], newMembers[name], childType, schema, &path)
            }
        case let (.items(itemType, keys), .items):
            let (oldElements, oldItems) = try FieldShape.index(old?.arrayValue ?? [], keys: keys, at: path)
            let (newElements, newItems) = try FieldShape.index(new?.arrayValue ?? [], keys: keys, at: path)
            var seen = Set<PathElement>()
            for element in oldElements + newElements where seen.insert(element).inserted {
                path.append(element)
                defer { path.removeLast() }
                let before = oldItems[element], after = newItems[element]
                if before == nil { added.insert(path) } else if after == nil { removed.insert(path) }
                try compare(before, after, itemType, schema, &path)
            }
        default:
            // One value (or a value whose shape changed): compared whole.
            if old == nil { added.insert(path) } else if new == nil { removed.insert(path) } else if old != new { modified.insert(path) }
        }
    }
}
