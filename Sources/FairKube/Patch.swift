/// The three patch formats `kubectl` sends (RFC 7386 merge patch, RFC 6902 JSON patch, and
/// Kubernetes' strategic merge patch for built-in types).
public enum Patch {
    public enum Failure: Error, CustomStringConvertible {
        case invalid(String)
        /// The patched document would pass this many bytes (encoded).
        case tooLarge(limit: Int)
        public var description: String {
            switch self {
            case let .invalid(message): return message
            case let .tooLarge(limit): return "the patched object would be larger than \(limit) bytes"
            }
        }
    }

    /// RFC 7386: objects merge recursively, `null` deletes, everything else replaces.
    public static func merge(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case let .object(patchMembers) = patch else { return patch }
        var members = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                members[key] = nil
            } else {
                members[key] = merge(members[key] ?? .null, value)
            }
        }
        return .object(members)
    }

    /// Strategic merge patch, for the shapes of the built-in types: like a merge patch, except that
    /// lists of objects with a `name` (containers, env, ports, volumes, volumeMounts…) are merged by
    /// that key, `$patch: delete` removes an element, and `$setElementOrder/…`/`$retainKeys`
    /// directives are honoured or ignored as order-only hints.
    public static func strategicMerge(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case let .object(patchMembers) = patch else { return patch }
        if patchMembers["$patch"]?.stringValue == "replace" {
            var replaced = patchMembers
            replaced["$patch"] = nil
            return .object(replaced)
        }
        var members = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if key.hasPrefix("$setElementOrder/") || key == "$retainKeys" || key == "$patch" { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let listKey = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removals = value.arrayValue ?? []
                members[listKey] = .array((members[listKey]?.arrayValue ?? []).filter { !removals.contains($0) })
                continue
            }
            if value.isNull {
                members[key] = nil
            } else if case let .array(patchItems) = value, let existing = members[key]?.arrayValue,
                      patchItems.allSatisfy({ $0["name"]?.stringValue != nil || $0["$patch"] != nil }),
                      existing.allSatisfy({ $0["name"]?.stringValue != nil }) {
                members[key] = .array(mergeByName(existing, patchItems))
            } else {
                members[key] = strategicMerge(members[key] ?? .null, value)
            }
        }
        return .object(members)
    }

    private static func mergeByName(_ existing: [JSONValue], _ patchItems: [JSONValue]) -> [JSONValue] {
        var result = existing
        for item in patchItems {
            guard let name = item["name"]?.stringValue else { continue }
            let index = result.firstIndex { $0["name"]?.stringValue == name }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
            } else if let index {
                result[index] = strategicMerge(result[index], item)
            } else {
                result.append(strategicMerge(.object([:]), item))
            }
        }
        return result
    }

    /// RFC 6902 operations: add, remove, replace, move, copy, test. `maximumSize` bounds the
    /// encoded size of the document as it grows, op by op: a few hundred bytes of `copy` ops
    /// could otherwise double a document until memory runs out, long before it is stored.
    public static func json(_ target: JSONValue, _ operations: JSONValue, maximumSize: Int = .max) throws -> JSONValue {
        guard let list = operations.arrayValue else { throw Failure.invalid("a JSON patch is a list of operations") }
        var document = target
        var size = maximumSize == .max ? 0 : JSONCoding.encode(target).count
        func grow(by added: JSONValue?, removing path: [String]?) throws {
            guard maximumSize != .max else { return }
            if let added { size += JSONCoding.encode(added).count }
            if let path, let old = try get(document, path[...]) { size -= JSONCoding.encode(old).count }
            if size > maximumSize { throw Failure.tooLarge(limit: maximumSize) }
        }
        for operation in list {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw Failure.invalid("each JSON patch operation needs \"op\" and \"path\"")
            }
            let pointer = try parsePointer(path)
            switch op {
            case "add":
                try grow(by: operation["value"] ?? .null, removing: nil)
                document = try apply(document, pointer[...], .add(operation["value"] ?? .null))
            case "remove":
                try grow(by: nil, removing: pointer)
                document = try apply(document, pointer[...], .remove)
            case "replace":
                try grow(by: operation["value"] ?? .null, removing: pointer)
                document = try apply(document, pointer[...], .replace(operation["value"] ?? .null))
            case "move", "copy":
                guard let from = operation["from"]?.stringValue else { throw Failure.invalid("\(op) needs \"from\"") }
                let fromPointer = try parsePointer(from)
                guard let value = try get(document, fromPointer[...]) else { throw Failure.invalid("\(from) does not exist") }
                if op == "copy" { try grow(by: value, removing: nil) }
                if op == "move" { document = try apply(document, fromPointer[...], .remove) }
                document = try apply(document, pointer[...], .add(value))
            case "test":
                guard try get(document, pointer[...]) == (operation["value"] ?? .null) else {
                    throw Failure.invalid("test failed at \(path)")
                }
            default:
                throw Failure.invalid("unknown JSON patch operation \"\(op)\"")
            }
        }
        return document
    }

    private enum Edit { case add(JSONValue), remove, replace(JSONValue) }

    private static func parsePointer(_ path: String) throws -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw Failure.invalid("JSON pointer \"\(path)\" must start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ value: JSONValue, _ pointer: ArraySlice<String>) throws -> JSONValue? {
        guard let key = pointer.first else { return value }
        switch value {
        case let .object(members): return try members[key].flatMap { try get($0, pointer.dropFirst()) }
        case let .array(items):
            guard let index = Int(key), items.indices.contains(index) else { return nil }
            return try get(items[index], pointer.dropFirst())
        default: return nil
        }
    }

    private static func apply(_ value: JSONValue, _ pointer: ArraySlice<String>, _ edit: Edit) throws -> JSONValue {
        guard let key = pointer.first else {
            switch edit {
            case let .add(new), let .replace(new): return new
            case .remove: return .null
            }
        }
        let last = pointer.count == 1
        switch value {
        case var .object(members):
            if last {
                switch edit {
                case let .add(new): members[key] = new
                case let .replace(new):
                    guard members[key] != nil else { throw Failure.invalid("cannot replace missing key \(key)") }
                    members[key] = new
                case .remove:
                    guard members[key] != nil else { throw Failure.invalid("cannot remove missing key \(key)") }
                    members[key] = nil
                }
            } else {
                guard let child = members[key] else { throw Failure.invalid("path element \(key) does not exist") }
                members[key] = try apply(child, pointer.dropFirst(), edit)
            }
            return .object(members)
        case var .array(items):
            let index = key == "-" ? items.count : Int(key) ?? -1
            if last {
                switch edit {
                case let .add(new):
                    guard (0...items.count).contains(index) else { throw Failure.invalid("index \(key) out of range") }
                    items.insert(new, at: index)
                case let .replace(new):
                    guard items.indices.contains(index) else { throw Failure.invalid("index \(key) out of range") }
                    items[index] = new
                case .remove:
                    guard items.indices.contains(index) else { throw Failure.invalid("index \(key) out of range") }
                    items.remove(at: index)
                }
            } else {
                guard items.indices.contains(index) else { throw Failure.invalid("index \(key) out of range") }
                items[index] = try apply(items[index], pointer.dropFirst(), edit)
            }
            return .array(items)
        default:
            throw Failure.invalid("cannot address \(key) inside a scalar")
        }
    }
}
