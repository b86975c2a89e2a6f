import FairKube

/// Merges an applied configuration into the live object by the schema's rules: objects field
/// by field, merged lists item by item (by key or value), and everything else replaced whole.
enum AppliedMerge {
    static func merge(_ live: JSONValue?, _ config: JSONValue?, _ type: ApplyType, schema: ApplySchema) throws -> JSONValue? {
        var path: [PathElement] = []
        return try merge(live, config, type, schema, &path)
    }

    private static func merge(_ live: JSONValue?, _ config: JSONValue?, _ type: ApplyType, _ schema: ApplySchema,
                              _ path: inout [PathElement]) throws -> JSONValue? {
        guard let config else { return live }
        guard let live, !live.isNull else { return config }
        switch (FieldShape(of: config, type), FieldShape(of: live, type)) {
        case let (.fields(objectType), .fields):
            var members = live.objectValue ?? [:]
            for (name, value) in config.objectValue ?? [:] {
                if value.isNull {
                    // A null in a configuration takes the field out.
                    members[name] = nil
                    continue
                }
                let (childType, _) = FieldShape.field(name, of: objectType, in: schema)
                path.append(.field(name))
                defer { path.removeLast() }
                members[name] = try merge(members[name], value, childType, schema, &path)
            }
            return .object(members)
        case let (.items(itemType, keys), .items):
            let (liveElements, liveItems) = try FieldShape.index(live.arrayValue ?? [], keys: keys, at: path)
            let (configElements, configItems) = try FieldShape.index(config.arrayValue ?? [], keys: keys, at: path)
            var merged: [JSONValue] = []
            for element in ordered(live: liveElements, config: configElements) {
                path.append(element)
                defer { path.removeLast() }
                if let item = try merge(liveItems[element], configItems[element], itemType, schema, &path) { merged.append(item) }
            }
            return .array(merged)
        default:
            return config
        }
    }

    /// The order of a merged list, structured-merge-diff's: items only the live list has keep
    /// their place, items both have follow the configuration's order, and a new item comes
    /// before the next shared item the configuration puts after it (so a re-apply does not
    /// reorder a list).
    static func ordered(live: [PathElement], config: [PathElement]) -> [PathElement] {
        let inConfig = Set(config), inLive = Set(live)
        var shared = config.filter { inLive.contains($0) }[...]
        var placed = Set<PathElement>()
        var result: [PathElement] = []
        var l = 0, c = 0
        while l < live.count || c < config.count {
            if l < live.count, c < config.count {
                let element = live[l]
                if element == config[c] {
                    result.append(element)
                    placed.insert(element)
                    l += 1
                    c += 1
                    if shared.first == element { shared.removeFirst() }
                    continue
                }
                if inConfig.contains(element), let next = shared.first, next != element {
                    // Shared, but not its turn yet: it comes at the configuration's position.
                    l += 1
                    continue
                }
            }
            if l < live.count {
                let element = live[l]
                if !inConfig.contains(element) {
                    result.append(element)
                    l += 1
                    continue
                }
                if placed.contains(element) {
                    l += 1
                    continue
                }
            }
            if c < config.count {
                let element = config[c]
                if placed.insert(element).inserted { result.append(element) }
                c += 1
                if shared.first == element { shared.removeFirst() }
            }
        }
        return result
    }

    /// The live object less the fields in `remove` (what the applier no longer sets and nobody
    /// else owns); a field under which someone still owns something stays. Maps and lists that
    /// only the removed fields filled go too.
    static func removing(_ remove: FieldSet, from value: JSONValue, keeping owned: FieldSet, _ type: ApplyType,
                         schema: ApplySchema) throws -> JSONValue {
        var path: [PathElement] = []
        return try removing(remove, from: value, keeping: owned, type, schema, &path)
    }

    private static func removing(_ remove: FieldSet, from value: JSONValue, keeping owned: FieldSet, _ type: ApplyType,
                                 _ schema: ApplySchema, _ path: inout [PathElement]) throws -> JSONValue {
        /// What becomes of one child: nil when it goes.
        func child(_ element: PathElement, _ current: JSONValue, _ childType: ApplyType) throws -> JSONValue? {
            let ownedBelow = owned.child(element) ?? FieldSet()
            if remove.members.contains(element) && !owned.members.contains(element) && ownedBelow.isEmpty { return nil }
            guard let below = remove.child(element) else { return current }
            path.append(element)
            defer { path.removeLast() }
            let pruned = try removing(below, from: current, keeping: ownedBelow, childType, schema, &path)
            let emptied = (pruned.objectValue?.isEmpty == true && current.objectValue?.isEmpty == false)
                || (pruned.arrayValue?.isEmpty == true && current.arrayValue?.isEmpty == false)
            if emptied { return nil }
            return pruned
        }
        switch FieldShape(of: value, type) {
        case let .fields(objectType):
            var members = value.objectValue ?? [:]
            for (name, current) in members {
                members[name] = try child(.field(name), current, FieldShape.field(name, of: objectType, in: schema).type)
            }
            return .object(members)
        case let .items(itemType, keys):
            var items: [JSONValue] = []
            for item in value.arrayValue ?? [] {
                let element = try FieldShape.element(of: item, keys: keys)
                if let kept = try child(element, item, itemType) { items.append(kept) }
            }
            return .array(items)
        case .whole:
            return value
        }
    }
}
