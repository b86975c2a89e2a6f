import FairKube

extension FieldSet {
    /// The fields an applied configuration sets, as structured-merge-diff counts them: every
    /// leaf (a scalar, or an atomic map or list, owned whole), every item of a merged list and
    /// every key of a map, and a declared field only where it is empty or null. A struct's own
    /// path is not a member: owning all of its fields is not owning the struct.
    init(of value: JSONValue, _ type: ApplyType, schema: ApplySchema) throws {
        var path: [PathElement] = []
        self = try Self.children(of: value, type, schema, &path) ?? FieldSet()
    }

    /// The set below a value, or nil when the value is a leaf (its own path is the member).
    private static func children(of value: JSONValue, _ type: ApplyType, _ schema: ApplySchema,
                                 _ path: inout [PathElement]) throws -> FieldSet? {
        switch FieldShape(of: value, type) {
        case .whole:
            return nil
        case let .fields(objectType):
            var set = FieldSet()
            for (name, child) in value.objectValue ?? [:] {
                let (childType, declared) = FieldShape.field(name, of: objectType, in: schema)
                let element = PathElement.field(name)
                path.append(element)
                defer { path.removeLast() }
                guard let below = try children(of: child, childType, schema, &path) else {
                    set.insertMember(element)
                    continue
                }
                set.attach(below, at: element)
                if !declared || child.isNull || child.objectValue?.isEmpty == true { set.insertMember(element) }
            }
            return set
        case let .items(itemType, keys):
            var set = FieldSet()
            let (elements, byElement) = try FieldShape.index(value.arrayValue ?? [], keys: keys, at: path)
            for element in elements {
                path.append(element)
                defer { path.removeLast() }
                set.insertMember(element)
                if let below = try children(of: byElement[element]!, itemType, schema, &path) { set.attach(below, at: element) }
            }
            return set
        }
    }
}
