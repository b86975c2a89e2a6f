import FairKube

/// What a value at a type is to server-side apply: one value owned whole, an object whose
/// fields are owned one by one, or a list whose items are.
enum FieldShape {
    case whole
    /// An object of this type (a struct or a map), merged and owned field by field.
    case fields(ApplyType)
    case items(ApplyType, keys: ListKind)

    init(of value: JSONValue, _ type: ApplyType) {
        switch (value, type) {
        case (.object, .structure(_, atomic: false)), (.object, .map(_, atomic: false)), (.object, .deduced):
            self = .fields(type)
        case let (.array, .list(items, kind)) where kind != .atomic:
            self = .items(items, keys: kind)
        default:
            // Scalars, atomic maps and lists, lists without a schema, and values of the wrong
            // type for their field (validation reports those; here they are one value).
            self = .whole
        }
    }

    /// The type of field `name` of an object of `type`, and whether the type declares it.
    static func field(_ name: String, of type: ApplyType, in schema: ApplySchema) -> (type: ApplyType, declared: Bool) {
        switch type {
        case let .structure(index, _):
            if let field = schema.fields(of: index)[name] { return (field, true) }
            return (.deduced, false)
        case let .map(values, _): return (values, false)
        default: return (.deduced, false)
        }
    }

    /// Whether `type` is an object of arbitrary keys (not one with declared fields).
    static func isMap(_ type: ApplyType) -> Bool {
        switch type {
        case .map, .deduced: return true
        default: return false
        }
    }

    struct ItemError: Error, CustomStringConvertible {
        let description: String
    }

    /// The path element of one list item: its key fields' values, or (a set) its value.
    static func element(of item: JSONValue, keys: ListKind) throws -> PathElement {
        switch keys {
        case .set:
            guard item.objectValue == nil, item.arrayValue == nil else {
                throw ItemError(description: "a set's items must be scalars")
            }
            return .value(item)
        case let .map(names):
            guard let object = item.objectValue else { throw ItemError(description: "an associative list's items must be objects") }
            var fields: [PathElement.KeyField] = []
            for name in names {
                if let value = object[name], !value.isNull {
                    fields.append(.init(name: name, value: value))
                } else if name == "protocol" {
                    // The one key field with a default (ports): TCP, as the API defaults it.
                    fields.append(.init(name: name, value: .string("TCP")))
                } else {
                    throw ItemError(description: "associative list with keys has an element that omits key field \"\(name)\" (and doesn't have default value)")
                }
            }
            return .key(fields.sorted { $0.name < $1.name })
        case .atomic:
            throw ItemError(description: "an atomic list has no items of its own")
        }
    }

    /// A list's items by path element, in order; a duplicate element is an error.
    static func index(_ items: [JSONValue], keys: ListKind, at path: [PathElement]) throws -> (elements: [PathElement], byElement: [PathElement: JSONValue]) {
        var elements: [PathElement] = []
        var byElement: [PathElement: JSONValue] = [:]
        for item in items {
            let element = try self.element(of: item, keys: keys)
            guard byElement[element] == nil else {
                throw ItemError(description: "duplicate entries for key \(element.description) in \(FieldSet.describe(path))")
            }
            elements.append(element)
            byElement[element] = item
        }
        return (elements, byElement)
    }
}
