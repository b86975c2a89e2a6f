import FairKube

/// The object definitions of the served kinds, read once from the generated
/// `KubernetesTypeSchemas.json` (see scripts/generate-openapi-schemas.py for its form).
struct TypeCatalog: Sendable {
    /// Every definition with declared fields; `FieldType.object` indexes into this.
    let objects: [ObjectType]
    /// The root definition of each served kind, keyed by `apiVersion/kind` (`apps/v1/Deployment`).
    let kinds: [String: Int]
    /// The Kubernetes release the definitions come from.
    let kubernetesVersion: String

    static let kubernetes: TypeCatalog = {
        do {
            return try TypeCatalog(json: KubernetesTypeSchemas.json)
        } catch {
            fatalError("the generated Kubernetes type schemas do not load: \(error)")
        }
    }()

    /// The root definition of a kind, or nil for a kind without one.
    func root(apiVersion: String, kind: String) -> Int? {
        kinds["\(apiVersion)/\(kind)"]
    }

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    init(json: String) throws {
        let document = try JSONCoding.decode(Array(json.utf8))
        guard let definitions = document["definitions"]?.objectValue, let kindNames = document["kinds"]?.objectValue else {
            throw LoadError(description: "no definitions or kinds")
        }
        let names = definitions.keys.sorted()
        var indices: [String: Int] = [:]
        for (index, name) in names.enumerated() { indices[name] = index }

        func fieldType(_ schema: JSONValue, at place: String) throws -> FieldType {
            guard let members = schema.objectValue else { throw LoadError(description: "\(place): not a schema") }
            if let reference = members["$ref"]?.stringValue {
                guard let index = indices[reference] else { throw LoadError(description: "\(place): unknown definition \(reference)") }
                return .object(index)
            }
            switch members["type"]?.stringValue {
            case nil: return .any
            case "string":
                switch members["format"]?.stringValue {
                case "int-or-string": return .intOrString
                case "quantity": return .quantity
                default: return .string
                }
            case "integer": return .integer
            case "number": return .number
            case "boolean": return .boolean
            case "array":
                guard let items = members["items"] else { return .array(of: .any) }
                return .array(of: try fieldType(items, at: place + "[]"))
            case "object":
                guard let values = members["additionalProperties"] else { return .anyObject }
                return .map(of: try fieldType(values, at: place + "{}"))
            case let other?:
                throw LoadError(description: "\(place): unknown type \(other)")
            }
        }

        var objects: [ObjectType] = []
        objects.reserveCapacity(names.count)
        for name in names {
            guard let properties = definitions[name]?["properties"]?.objectValue else {
                throw LoadError(description: "\(name): no properties")
            }
            var fields: [String: FieldType] = [:]
            for (field, schema) in properties { fields[field] = try fieldType(schema, at: "\(name).\(field)") }
            objects.append(ObjectType(name: name, fields: fields))
        }
        var kinds: [String: Int] = [:]
        for (kind, name) in kindNames {
            guard let name = name.stringValue, let index = indices[name] else {
                throw LoadError(description: "kind \(kind): unknown definition")
            }
            kinds[kind] = index
        }
        self.objects = objects
        self.kinds = kinds
        self.kubernetesVersion = document["kubernetesVersion"]?.stringValue ?? ""
    }
}
