import FairKube
import Foundation
import SwiftProtobuf

/// A decoded Kubernetes message as the JSON the API serves: field names from the `.proto`
/// descriptors (`ProtoFieldNames`, which are the JSON names in Kubernetes' protos), and the types
/// whose JSON is not their message shape written as Kubernetes writes them (times as RFC 3339,
/// quantities and int-or-strings as scalars, raw extensions as the JSON they carry, extra values
/// as arrays, bytes as base64). An empty string is left out, as Go's `omitempty` leaves it out:
/// kubectl's encoder writes every plain string field, set or not.
enum ProtobufJSON {
    static func value<M: Message>(of message: M) throws -> JSONValue {
        switch M.protoMessageName {
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Time", "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime":
            let fields = try fieldValues(of: message)
            let seconds = fields["seconds"]?.intValue ?? 0
            let nanos = fields["nanos"]?.intValue ?? 0
            if seconds == 0 && nanos == 0 { return .null }
            let date = Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(nanos) / 1e9)
            return .string(M.protoMessageName.hasSuffix("MicroTime") ? KubeTime.formatMicro(date) : KubeTime.format(date))
        case "k8s.io.apimachinery.pkg.api.resource.Quantity":
            return try fieldValues(of: message)["string"] ?? .string("0")
        case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
            let fields = try fieldValues(of: message)
            return fields["type"]?.intValue == 1 ? (fields["strVal"] ?? .string("")) : (fields["intVal"] ?? .int(0))
        case "k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1":
            let fields = try fieldValues(of: message)
            guard case let .string(base64)? = fields["raw"] ?? fields["Raw"], let bytes = Data(base64Encoded: base64), !bytes.isEmpty else { return .null }
            return try JSONCoding.decode(bytes)
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Duration":
            let nanoseconds = try fieldValues(of: message)["duration"]?.intValue ?? 0
            return .string(goDuration(nanoseconds))
        case let name where name.hasSuffix(".ExtraValue") || name == "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs":
            return try fieldValues(of: message)["items"] ?? .array([])
        default:
            return .object(try fieldValues(of: message))
        }
    }

    private static func fieldValues<M: Message>(of message: M) throws -> [String: JSONValue] {
        var visitor = FieldVisitor(messageName: M.protoMessageName)
        try message.traverse(visitor: &visitor)
        return visitor.fields
    }

    /// Go's `time.Duration.String()` for whole units: "1h2m3s", "1.5s", "0s".
    static func goDuration(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        var text = nanoseconds < 0 ? "-" : ""
        var rest = nanoseconds.magnitude
        let hours = rest / 3_600_000_000_000
        rest %= 3_600_000_000_000
        let minutes = rest / 60_000_000_000
        rest %= 60_000_000_000
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        let seconds = Double(rest) / 1e9
        text += seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
        return text
    }
}

/// Collects one message's set fields as JSON, by the names the descriptors give their numbers.
private struct FieldVisitor: Visitor {
    let messageName: String
    var fields: [String: JSONValue] = [:]

    init(messageName: String) {
        self.messageName = messageName
    }

    private mutating func set(_ value: JSONValue, _ number: Int) throws {
        guard let name = ProtoFieldNames.table[messageName]?[number] else {
            throw ProtobufBodyError.unknownField(message: messageName, number: number)
        }
        if case let .string(text) = value, text.isEmpty { return }
        fields[name] = value
    }

    mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws { try set(.double(value), fieldNumber) }
    mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws { try set(.int(value), fieldNumber) }
    mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws { try set(.int(Int64(truncatingIfNeeded: value)), fieldNumber) }
    mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws { try set(.bool(value), fieldNumber) }
    mutating func visitSingularStringField(value: String, fieldNumber: Int) throws { try set(.string(value), fieldNumber) }
    mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {
        guard !value.isEmpty else { return }
        try set(.string(value.base64EncodedString()), fieldNumber)
    }
    mutating func visitSingularEnumField<E: Enum>(value: E, fieldNumber: Int) throws { try set(.int(Int64(value.rawValue)), fieldNumber) }
    mutating func visitSingularMessageField<M: Message>(value: M, fieldNumber: Int) throws {
        try set(ProtobufJSON.value(of: value), fieldNumber)
    }
    mutating func visitSingularGroupField<G: Message>(value: G, fieldNumber: Int) throws {
        try set(ProtobufJSON.value(of: value), fieldNumber)
    }

    mutating func visitRepeatedDoubleField(value: [Double], fieldNumber: Int) throws { try set(.array(value.map { .double($0) }), fieldNumber) }
    mutating func visitRepeatedInt64Field(value: [Int64], fieldNumber: Int) throws { try set(.array(value.map { .int($0) }), fieldNumber) }
    mutating func visitRepeatedUInt64Field(value: [UInt64], fieldNumber: Int) throws {
        try set(.array(value.map { .int(Int64(truncatingIfNeeded: $0)) }), fieldNumber)
    }
    mutating func visitRepeatedBoolField(value: [Bool], fieldNumber: Int) throws { try set(.array(value.map { .bool($0) }), fieldNumber) }
    mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws { try set(.array(value.map { .string($0) }), fieldNumber) }
    mutating func visitRepeatedBytesField(value: [Data], fieldNumber: Int) throws {
        try set(.array(value.map { .string($0.base64EncodedString()) }), fieldNumber)
    }
    mutating func visitRepeatedEnumField<E: Enum>(value: [E], fieldNumber: Int) throws {
        try set(.array(value.map { .int(Int64($0.rawValue)) }), fieldNumber)
    }
    mutating func visitRepeatedMessageField<M: Message>(value: [M], fieldNumber: Int) throws {
        try set(.array(try value.map { try ProtobufJSON.value(of: $0) }), fieldNumber)
    }
    mutating func visitRepeatedGroupField<G: Message>(value: [G], fieldNumber: Int) throws {
        try set(.array(try value.map { try ProtobufJSON.value(of: $0) }), fieldNumber)
    }

    mutating func visitMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws {
        var object: [String: JSONValue] = [:]
        for (key, item) in value {
            let text = "\(key)"
            switch item {
            case let string as String: object[text] = .string(string)
            case let data as Data: object[text] = .string(data.base64EncodedString())
            case let number as Int64: object[text] = .int(number)
            case let number as Int32: object[text] = .int(Int64(number))
            case let flag as Bool: object[text] = .bool(flag)
            case let number as Double: object[text] = .double(number)
            default: object[text] = .string("\(item)")
            }
        }
        try set(.object(object), fieldNumber)
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws where ValueType.RawValue == Int {
        var object: [String: JSONValue] = [:]
        for (key, item) in value { object["\(key)"] = .int(Int64(item.rawValue)) }
        try set(.object(object), fieldNumber)
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws {
        var object: [String: JSONValue] = [:]
        for (key, item) in value { object["\(key)"] = try ProtobufJSON.value(of: item) }
        try set(.object(object), fieldNumber)
    }

    mutating func visitExtensionFields(fields: ExtensionFieldValueSet, start: Int, end: Int) throws {}
    mutating func visitExtensionFieldsAsMessageSet(fields: ExtensionFieldValueSet, start: Int, end: Int) throws {}
    /// Fields newer than the protos fair was generated from: dropped, as an older server drops them.
    mutating func visitUnknown(bytes: Data) throws {}
}
