import FairKube
import Foundation
import SwiftProtobuf

/// Collects the fields a message carries, by number, each already in its JSON form: numbers as
/// numbers, `[]byte` as base64 (as encoding/json writes it), maps as objects, messages through
/// `ProtobufJSON`. Zero values are kept: whether Go writes them is the Go field's business
/// (`GoJSONField`), decided once the message is read.
struct ProtoFieldVisitor: Visitor {
    var fields: [Int: JSONValue] = [:]

    mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws { fields[fieldNumber] = .double(value) }
    mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws { fields[fieldNumber] = .int(value) }
    mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {
        fields[fieldNumber] = .int(Int64(truncatingIfNeeded: value))
    }
    mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws { fields[fieldNumber] = .bool(value) }
    mutating func visitSingularStringField(value: String, fieldNumber: Int) throws { fields[fieldNumber] = .string(value) }
    mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {
        fields[fieldNumber] = .string(value.base64EncodedString())
    }
    mutating func visitSingularEnumField<E: Enum>(value: E, fieldNumber: Int) throws { fields[fieldNumber] = .int(Int64(value.rawValue)) }
    mutating func visitSingularMessageField<M: Message>(value: M, fieldNumber: Int) throws {
        fields[fieldNumber] = try ProtobufJSON.value(of: value)
    }
    mutating func visitSingularGroupField<G: Message>(value: G, fieldNumber: Int) throws {
        fields[fieldNumber] = try ProtobufJSON.value(of: value)
    }

    mutating func visitRepeatedDoubleField(value: [Double], fieldNumber: Int) throws { fields[fieldNumber] = .array(value.map { .double($0) }) }
    mutating func visitRepeatedInt64Field(value: [Int64], fieldNumber: Int) throws { fields[fieldNumber] = .array(value.map { .int($0) }) }
    mutating func visitRepeatedUInt64Field(value: [UInt64], fieldNumber: Int) throws {
        fields[fieldNumber] = .array(value.map { .int(Int64(truncatingIfNeeded: $0)) })
    }
    mutating func visitRepeatedBoolField(value: [Bool], fieldNumber: Int) throws { fields[fieldNumber] = .array(value.map { .bool($0) }) }
    mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws { fields[fieldNumber] = .array(value.map { .string($0) }) }
    mutating func visitRepeatedBytesField(value: [Data], fieldNumber: Int) throws {
        fields[fieldNumber] = .array(value.map { .string($0.base64EncodedString()) })
    }
    mutating func visitRepeatedEnumField<E: Enum>(value: [E], fieldNumber: Int) throws {
        fields[fieldNumber] = .array(value.map { .int(Int64($0.rawValue)) })
    }
    mutating func visitRepeatedMessageField<M: Message>(value: [M], fieldNumber: Int) throws {
        fields[fieldNumber] = .array(try value.map { try ProtobufJSON.value(of: $0) })
    }
    mutating func visitRepeatedGroupField<G: Message>(value: [G], fieldNumber: Int) throws {
        fields[fieldNumber] = .array(try value.map { try ProtobufJSON.value(of: $0) })
    }

    /// Kubernetes' maps have string keys and string, bytes or message values (labels, Secret
    /// `data`, ResourceList's quantities, ExtraValue).
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
        fields[fieldNumber] = .object(object)
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws where ValueType.RawValue == Int {
        var object: [String: JSONValue] = [:]
        for (key, item) in value { object["\(key)"] = .int(Int64(item.rawValue)) }
        fields[fieldNumber] = .object(object)
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws {
        var object: [String: JSONValue] = [:]
        for (key, item) in value { object["\(key)"] = try ProtobufJSON.value(of: item) }
        fields[fieldNumber] = .object(object)
    }

    mutating func visitExtensionFields(fields: ExtensionFieldValueSet, start: Int, end: Int) throws {}
    mutating func visitExtensionFieldsAsMessageSet(fields: ExtensionFieldValueSet, start: Int, end: Int) throws {}
    /// Fields newer than the protos fair was generated from: dropped, as an older server drops them.
    mutating func visitUnknown(bytes: Data) throws {}
}
