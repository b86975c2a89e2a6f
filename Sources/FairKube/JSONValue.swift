import Foundation

/// A JSON document kept as it is: API objects carry fields the server does not model, and every
/// one of them must survive a round trip through the store untouched.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        get {
            if case let .object(members) = self { return members[key] }
            return nil
        }
        set {
            guard case var .object(members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case let .int(value): return value
        case let .double(value) where value == value.rounded(): return Int64(value)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case let .array(values) = self { return values }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case let .object(members) = self { return members }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The value at a dotted path of object keys, e.g. `metadata.name`.
    public func value(at path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

    /// Sets the value at a dotted path, creating intermediate objects.
    public mutating func set(_ value: JSONValue?, at path: String) {
        // Label and annotation keys hold dots and slashes; no field name does. A path with a
        // slash means such a key is being split into fields: use `set(_:at: [String])`.
        assert(!path.contains("/"), "dotted path \(path) splits a key that holds dots; pass the keys as a list")
        let keys = path.split(separator: ".").map(String.init)
        self = Self.setting(value, in: self, keys: keys[...])
    }

    /// The value under a list of keys, each taken whole: `["metadata", "annotations",
    /// "deployment.kubernetes.io/revision"]`. Keys holding dots (labels, annotations) must be
    /// read and written this way; the dotted form would take them apart.
    public func value(at keys: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for key in keys { current = current?[key] }
        return current
    }

    /// Sets the value under a list of keys, each taken whole, creating intermediate objects.
    public mutating func set(_ value: JSONValue?, at keys: [String]) {
        self = Self.setting(value, in: self, keys: keys[...])
    }

    private static func setting(_ value: JSONValue?, in container: JSONValue, keys: ArraySlice<String>) -> JSONValue {
        guard let key = keys.first else { return value ?? .null }
        var members = container.objectValue ?? [:]
        if keys.count == 1 {
            members[key] = value
        } else {
            members[key] = setting(value, in: members[key] ?? .object([:]), keys: keys.dropFirst())
        }
        return .object(members)
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int64.self) { self = .int(value); return }
        if let value = try? container.decode(Double.self) { self = .double(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try container.decode([String: JSONValue].self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .int(value): try container.encode(value)
        case let .double(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(values): try container.encode(values)
        case let .object(members): try container.encode(members)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// Parsing and printing JSON documents, directly over UTF-8 bytes (see `JSONParser` and
/// `JSONWriter` for the exact rules). Every API request, response and watch event goes through
/// here, so it does not use Codable: that path costs ~25x more per object.
public enum JSONCoding {
    /// The deepest arrays and objects may nest in a parsed document.
    public static let maximumDepth = JSONParser.maximumDepth

    /// Parses one JSON document; throws `JSONParseError` naming the byte offset and what was expected.
    public static func decode(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try decode($0) }
    }

    public static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try JSONParser.parse($0) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        try JSONParser.parse(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Keys sorted, slashes not escaped; byte for byte what `JSONEncoder` gives with
    /// `[.sortedKeys, .withoutEscapingSlashes]` (and `.prettyPrinted` when `pretty`).
    public static func encode(_ value: JSONValue, pretty: Bool = false) -> Data {
        var writer = JSONWriter(pretty: pretty)
        writer.write(value)
        return writer.takeData()
    }

    public static func encodeBytes(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.write(value)
        return writer.takeBytes()
    }
}
