import FairKube

/// What one field of a Kubernetes object may hold, as its OpenAPI definition says, reduced to
/// what a JSON type check needs.
indirect enum FieldType: Sendable, Equatable {
    /// Any JSON value (RawExtension, FieldsV1, apiextensions JSON): kept raw by its decoder.
    case any
    case string
    /// An integer; a double with an integral value counts as one.
    case integer
    /// Any number, integral or not.
    case number
    case boolean
    /// IntOrString (`x-kubernetes-int-or-string`): an integer or a string.
    case intOrString
    /// resource.Quantity: a string, or a number its decoder parses the same way ("0.5" or 0.5).
    case quantity
    case array(of: FieldType)
    /// An object whose members are all of one type (`additionalProperties`), e.g. labels.
    case map(of: FieldType)
    /// An object with no declared members: any members.
    case anyObject
    /// A named definition with declared fields: an index into `TypeCatalog.objects`.
    case object(Int)

    /// The OpenAPI type name used in messages: `must be of type <name>`.
    var typeName: String {
        switch self {
        case .any: return "any"
        case .string: return "string"
        case .integer: return "integer"
        case .number: return "number"
        case .boolean: return "boolean"
        case .intOrString: return "integer or string"
        case .quantity: return "number or string"
        case .array: return "array"
        case .map, .anyObject, .object: return "object"
        }
    }

    /// Whether a (non-null) value has this type; members and items are not looked at.
    func admits(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.any, _): return true
        case (.string, .string), (.boolean, .bool): return true
        case (.integer, .int), (.number, .int), (.number, .double): return true
        case let (.integer, .double(number)): return Self.isIntegral(number)
        case (.intOrString, .int), (.intOrString, .string): return true
        case let (.intOrString, .double(number)): return Self.isIntegral(number)
        case (.quantity, .string), (.quantity, .int), (.quantity, .double): return true
        case (.array, .array): return true
        case (.map, .object), (.anyObject, .object), (.object, .object): return true
        default: return false
        }
    }

    /// Whether values of this type have members or items that are checked in turn.
    var hasMembers: Bool {
        switch self {
        case .object: return true
        case let .array(of: item): return item != .any
        case let .map(of: value): return value != .any
        default: return false
        }
    }

    private static func isIntegral(_ number: Double) -> Bool {
        number.isFinite && number == number.rounded(.towardZero)
    }
}

/// A definition with declared fields (PodSpec, ObjectMeta, …). Fields it does not declare are
/// not errors: the store keeps them, as kube-apiserver's default field validation only warns.
struct ObjectType: Sendable {
    let name: String
    var fields: [String: FieldType]
}

extension JSONValue {
    /// The OpenAPI type name of a value, as messages print it: `"string"`, `"integer"`, …
    var openAPITypeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
