import FairKube

/// Checks the JSON types of an object's fields against Kubernetes' own OpenAPI definitions of
/// its kind (generated into `KubernetesTypeSchemas` by scripts/generate-openapi-schemas.py).
///
/// kube-apiserver decodes built-in kinds into Go structs, so a field of the wrong JSON type
/// (`data: {a: 1}` in a ConfigMap, `containerPort: "80"`) never reaches its store. This gives each
/// such field a cause worded as kube's OpenAPI schema validation words it:
///
///     spec.containers[0].ports[0].containerPort:
///         Invalid value: "80": spec.containers[0].ports[0].containerPort in body must be of type integer: "string"
///
/// What is not an error: `null` anywhere (kube treats it as unset); fields the definition does not
/// declare (kube's default field validation only warns, and the store keeps them); a double with
/// an integral value where an integer is expected. Kinds without a definition get no causes.
///
/// The work is bounded: each value of the body is looked at once at most, no more than
/// `maximumValues` in all, no deeper than `maximumDepth`, and at most `maximumCauses` are
/// reported; what lies beyond those bounds is not checked.
enum SchemaValidator {
    static let maximumDepth = 64
    static let maximumValues = 1_000_000
    static let maximumCauses = 100

    static func causes(_ object: JSONValue, apiVersion: String, kind: String) -> [(field: String, message: String)] {
        let catalog = TypeCatalog.kubernetes
        guard let root = catalog.root(apiVersion: apiVersion, kind: kind) else { return [] }
        var walk = Walk(objects: catalog.objects)
        walk.check(object, as: .object(root))
        return walk.causes
    }

    /// The message for a value whose JSON type is not the field's.
    static func message(_ value: JSONValue, at field: String, expected: FieldType) -> String {
        let place = field.isEmpty ? "body" : "\(field) in body"
        return "Invalid value: \(ValuePreview.text(value)): \(place) must be of type \(expected.typeName): \"\(value.openAPITypeName)\""
    }

    private struct Walk {
        let objects: [ObjectType]
        var path = FieldPath()
        var causes: [(field: String, message: String)] = []
        var values = 0
        /// Set when a bound is reached: nothing more is checked.
        var stopped = false

        init(objects: [ObjectType]) { self.objects = objects }

        mutating func check(_ value: JSONValue, as type: FieldType) {
            guard !stopped else { return }
            if case .null = value { return }
            guard type.admits(value) else {
                let field = path.description
                causes.append((field, SchemaValidator.message(value, at: field, expected: type)))
                if causes.count >= SchemaValidator.maximumCauses { stopped = true }
                return
            }
            guard path.depth < SchemaValidator.maximumDepth else { return }
            switch (type, value) {
            case let (.object(index), .object(members)):
                let fields = objects[index].fields
                let names = interesting(members) { fields[$0] }
                for name in names {
                    path.push(.field(name))
                    check(members[name]!, as: fields[name]!)
                    path.pop()
                }
            case let (.map(of: valueType), .object(members)):
                for key in interesting(members, { _ in valueType }) {
                    path.push(.key(key))
                    check(members[key]!, as: valueType)
                    path.pop()
                }
            case let (.array(of: itemType), .array(items)):
                guard count(items.count), itemType != .any else { return }
                for (index, item) in items.enumerated() where Self.mayFail(item, as: itemType) {
                    path.push(.index(index))
                    check(item, as: itemType)
                    path.pop()
                    if stopped { return }
                }
            default:
                return
            }
        }

        /// The keys of an object's members that could give a cause (a declared field of the wrong
        /// type, or one with members or items of its own), in order; others are skipped unsorted,
        /// so a large map of valid strings costs no sort.
        private mutating func interesting(_ members: [String: JSONValue], _ typeOf: (String) -> FieldType?) -> [String] {
            guard count(members.count) else { return [] }
            var keys: [String] = []
            for (key, member) in members {
                if let type = typeOf(key), Self.mayFail(member, as: type) { keys.append(key) }
            }
            return keys.sorted()
        }

        /// Counts values against `maximumValues`; false once the bound is reached.
        private mutating func count(_ more: Int) -> Bool {
            values += more
            if values > SchemaValidator.maximumValues { stopped = true }
            return !stopped
        }

        private static func mayFail(_ value: JSONValue, as type: FieldType) -> Bool {
            if case .null = value { return false }
            return !type.admits(value) || type.hasMembers
        }
    }
}
