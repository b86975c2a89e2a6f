import FairKube

/// One step of a path into an object, as structured-merge-diff names them: a field, a list item
/// by its key fields, a set item by its value, or (in lists without keys) an index.
enum PathElement: Hashable, Sendable {
    case field(String)
    /// Key field names and values, sorted by name.
    case key([KeyField])
    case value(JSONValue)
    case index(Int)

    struct KeyField: Hashable, Sendable {
        let name: String
        let value: JSONValue
    }

    /// As a conflict names it: `.spec`, `[name="nginx"]`, `[=value]`, `[3]`.
    var description: String {
        switch self {
        case let .field(name): return ".\(name)"
        case let .key(fields): return "[" + fields.map { "\($0.name)=\(Self.text($0.value))" }.joined(separator: ",") + "]"
        case let .value(value): return "[=\(Self.text(value))]"
        case let .index(index): return "[\(index)]"
        }
    }

    /// The element as a FieldsV1 key: `f:spec`, `k:{"name":"nginx"}`, `v:"value"`, `i:3`.
    var fieldsV1Key: String {
        switch self {
        case let .field(name): return "f:\(name)"
        case let .key(fields):
            var members: [String: JSONValue] = [:]
            for field in fields { members[field.name] = field.value }
            return "k:" + String(decoding: JSONCoding.encode(.object(members)), as: UTF8.self)
        case let .value(value): return "v:" + String(decoding: JSONCoding.encode(value), as: UTF8.self)
        case let .index(index): return "i:\(index)"
        }
    }

    /// Reads a FieldsV1 key; nil for one that is not.
    init?(fieldsV1Key key: String) {
        let body = String(key.dropFirst(2))
        switch key.prefix(2) {
        case "f:": self = .field(body)
        case "k:":
            guard let members = (try? JSONCoding.decode(Array(body.utf8)))?.objectValue, !members.isEmpty else { return nil }
            self = .key(members.map { KeyField(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name })
        case "v:":
            guard let value = try? JSONCoding.decode(Array(body.utf8)) else { return nil }
            self = .value(value)
        case "i:":
            guard let index = Int(body), index >= 0 else { return nil }
            self = .index(index)
        default: return nil
        }
    }

    private static func text(_ value: JSONValue) -> String {
        String(decoding: JSONCoding.encode(value), as: UTF8.self)
    }
}

/// A set of paths into an object: the fields one manager owns, or what one write changed.
/// A tree: each node holds the elements below it that are members themselves (a path ends
/// there) and the nodes of those that have members further down; an element can be both
/// (a list item is owned, and so are its fields).
struct FieldSet: Equatable, Sendable {
    private(set) var members: Set<PathElement> = []
    private(set) var children: [PathElement: FieldSet] = [:]

    init() {}

    var isEmpty: Bool { members.isEmpty && children.isEmpty }

    mutating func insert(_ path: ArraySlice<PathElement>) {
        guard let first = path.first else { return }
        if path.count == 1 {
            members.insert(first)
        } else {
            children[first, default: FieldSet()].insert(path.dropFirst())
        }
    }

    mutating func insert(_ path: [PathElement]) { insert(path[...]) }

    mutating func insertMember(_ element: PathElement) { members.insert(element) }

    /// Adds a non-empty subtree under `element`.
    mutating func attach(_ child: FieldSet, at element: PathElement) {
        guard !child.isEmpty else { return }
        children[element, default: FieldSet()].formUnion(child)
    }

    func child(_ element: PathElement) -> FieldSet? { children[element] }

    func contains(_ path: ArraySlice<PathElement>) -> Bool {
        guard let first = path.first else { return false }
        if path.count == 1 { return members.contains(first) }
        return children[first]?.contains(path.dropFirst()) ?? false
    }

    mutating func formUnion(_ other: FieldSet) {
        members.formUnion(other.members)
        for (element, child) in other.children { children[element, default: FieldSet()].formUnion(child) }
    }

    func union(_ other: FieldSet) -> FieldSet {
        var result = self
        result.formUnion(other)
        return result
    }

    /// The members of this set that `other` lacks (a member of `other` does not take away what
    /// lies below it here).
    func subtracting(_ other: FieldSet) -> FieldSet { subtracting(other, below: false) }

    /// This set less everything at or below `other`'s members (the fields a write ignores).
    func subtractingRecursively(_ other: FieldSet) -> FieldSet { subtracting(other, below: true) }

    private func subtracting(_ other: FieldSet, below: Bool) -> FieldSet {
        var result = FieldSet()
        result.members = members.subtracting(other.members)
        for (element, child) in children where !(below && other.members.contains(element)) {
            let remaining = other.children[element].map { child.subtracting($0, below: below) } ?? child
            if !remaining.isEmpty { result.children[element] = remaining }
        }
        return result
    }

    func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.members = members.intersection(other.members)
        for (element, child) in children {
            guard let theirs = other.children[element] else { continue }
            let shared = child.intersection(theirs)
            if !shared.isEmpty { result.children[element] = shared }
        }
        return result
    }

    /// Whether anything at or below `element` is in the set.
    func hasAnything(at element: PathElement) -> Bool {
        members.contains(element) || !(children[element]?.isEmpty ?? true)
    }

    /// Every member path, sorted as structured-merge-diff prints them.
    var paths: [[PathElement]] {
        var result: [[PathElement]] = []
        func walk(_ set: FieldSet, _ prefix: [PathElement]) {
            let elements = Set(set.members).union(set.children.keys).sorted { $0.fieldsV1Key < $1.fieldsV1Key }
            for element in elements {
                if set.members.contains(element) { result.append(prefix + [element]) }
                if let child = set.children[element] { walk(child, prefix + [element]) }
            }
        }
        walk(self, [])
        return result
    }

    static func describe(_ path: [PathElement]) -> String {
        path.map(\.description).joined()
    }

    // MARK: FieldsV1

    /// The set as `fieldsV1`: `{"f:spec":{"f:replicas":{}}}`, with `".":{}` where an element
    /// that has children is a member too.
    var fieldsV1: JSONValue {
        var object: [String: JSONValue] = [:]
        for element in members where children[element] == nil { object[element.fieldsV1Key] = .object([:]) }
        for (element, child) in children {
            var encoded = child.fieldsV1.objectValue ?? [:]
            if members.contains(element) { encoded["."] = .object([:]) }
            object[element.fieldsV1Key] = .object(encoded)
        }
        return .object(object)
    }

    struct DecodeError: Error, CustomStringConvertible {
        let description: String
    }

    init(fieldsV1: JSONValue) throws {
        guard let object = fieldsV1.objectValue else { throw DecodeError(description: "fieldsV1 must be an object") }
        for (key, value) in object {
            guard let childObject = value.objectValue else { throw DecodeError(description: "the value of \(key) must be an object") }
            if key == "." { continue }
            guard let element = PathElement(fieldsV1Key: key) else { throw DecodeError(description: "\(key) is not a field path element") }
            if childObject.isEmpty {
                members.insert(element)
                continue
            }
            if childObject["."] != nil { members.insert(element) }
            let child = try FieldSet(fieldsV1: value)
            if !child.isEmpty { children[element] = child }
        }
    }
}
