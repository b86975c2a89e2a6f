import FairKube

/// How server-side apply sees a field's type, as structured-merge-diff builds it from Kubernetes'
/// OpenAPI: which maps and lists merge item by item (and by which keys), and which are one
/// atomic value that a single manager owns whole.
indirect enum ApplyType: Sendable {
    /// A string, number or boolean (also `IntOrString`, `Quantity`, `Time`).
    case scalar
    /// An object with declared fields (an index into `ApplySchema.structures`); `atomic` when
    /// `x-kubernetes-map-type: atomic` (a LabelSelector, say) makes it one value.
    case structure(Int, atomic: Bool)
    /// An object of arbitrary keys (labels, data), each key its own field unless atomic.
    case map(values: ApplyType, atomic: Bool)
    case list(items: ApplyType, kind: ListKind)
    /// No schema (an embedded RawExtension, a field the schema does not declare): objects merge
    /// key by key and lists are atomic, as structured-merge-diff's deduced type does.
    case deduced
}

/// `x-kubernetes-list-type`, or what the patch strategy implies when a list has none.
enum ListKind: Sendable, Equatable {
    case atomic
    /// Scalars, each its own item (`finalizers`).
    case set
    /// Objects, each identified by the values of these fields (`containers` by `name`).
    case map(keys: [String])
}

/// The merge-relevant shape of every Kubernetes type the server serves, read once from the
/// same OpenAPI definitions `/openapi/v3` publishes.
struct ApplySchema: Sendable {
    struct Structure: Sendable {
        let name: String
        let fields: [String: ApplyType]
    }

    let structures: [Structure]
    /// The root type of each kind, by `apiVersion/kind`.
    let kinds: [String: ApplyType]

    static let kubernetes = ApplySchema(definitions: OpenAPI.schemas)

    /// The type of a kind's objects; `.deduced` for a kind without a schema.
    func root(apiVersion: String, kind: String) -> ApplyType {
        kinds["\(apiVersion)/\(kind)"] ?? .deduced
    }

    func fields(of index: Int) -> [String: ApplyType] { structures[index].fields }

    init(definitions: [String: JSONValue]) {
        let names = definitions.keys.sorted()
        var indices: [String: Int] = [:]
        // Only definitions with properties are structures; the others (IntOrString, Time,
        // Quantity, RawExtension) are scalars or deduced, resolved by name below.
        for name in names where definitions[name]?["properties"]?.objectValue != nil { indices[name] = indices.count }
        var inline: [Structure] = []

        func named(_ reference: String, atomic: Bool) -> ApplyType {
            let name = reference.split(separator: "/").last.map(String.init) ?? reference
            if let index = indices[name] {
                let definitionAtomic = definitions[name]?["x-kubernetes-map-type"]?.stringValue == "atomic"
                return .structure(index, atomic: atomic || definitionAtomic)
            }
            guard let definition = definitions[name] else { return .deduced }
            switch definition["type"]?.stringValue {
            case "string", "integer", "number", "boolean": return .scalar
            default: return .deduced
            }
        }

        func type(of schema: JSONValue) -> ApplyType {
            let atomicMap = schema["x-kubernetes-map-type"]?.stringValue == "atomic"
            if let reference = schema["$ref"]?.stringValue { return named(reference, atomic: atomicMap) }
            if let reference = schema["allOf"]?.arrayValue?.first?["$ref"]?.stringValue { return named(reference, atomic: atomicMap) }
            switch schema["type"]?.stringValue {
            case "string", "integer", "number", "boolean":
                return .scalar
            case "array":
                let items = schema["items"].map(type(of:)) ?? .deduced
                return .list(items: items, kind: listKind(schema))
            case "object":
                if let values = schema["additionalProperties"], values.objectValue != nil {
                    return .map(values: type(of: values), atomic: atomicMap)
                }
                if let properties = schema["properties"]?.objectValue {
                    // An object declared in place rather than by reference.
                    var fields: [String: ApplyType] = [:]
                    for (field, property) in properties { fields[field] = type(of: property) }
                    inline.append(Structure(name: "inline", fields: fields))
                    return .structure(indices.count + inline.count - 1, atomic: atomicMap)
                }
                return atomicMap ? .map(values: .deduced, atomic: true) : .deduced
            default:
                return .deduced
            }
        }

        func listKind(_ schema: JSONValue) -> ListKind {
            switch schema["x-kubernetes-list-type"]?.stringValue {
            case "atomic": return .atomic
            case "set": return .set
            case "map": return .map(keys: schema["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            default:
                // Lists older than the list-type markers say the same through the strategic
                // merge patch strategy, which is how Kubernetes converts them.
                let strategy = schema["x-kubernetes-patch-strategy"]?.stringValue ?? ""
                guard strategy.split(separator: ",").contains("merge") else { return .atomic }
                if let key = schema["x-kubernetes-patch-merge-key"]?.stringValue { return .map(keys: [key]) }
                return .set
            }
        }

        var structures: [Structure] = []
        var kinds: [String: ApplyType] = [:]
        for name in names {
            guard let definition = definitions[name], let properties = definition["properties"]?.objectValue else { continue }
            var fields: [String: ApplyType] = [:]
            for (field, property) in properties { fields[field] = type(of: property) }
            structures.append(Structure(name: name, fields: fields))
            for gvk in definition["x-kubernetes-group-version-kind"]?.arrayValue ?? [] {
                guard let kind = gvk["kind"]?.stringValue, let version = gvk["version"]?.stringValue else { continue }
                let group = gvk["group"]?.stringValue ?? ""
                kinds["\(group.isEmpty ? version : "\(group)/\(version)")/\(kind)"] = .structure(indices[name]!, atomic: false)
            }
        }
        self.structures = structures + inline
        self.kinds = kinds
    }
}
