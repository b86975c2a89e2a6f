import FairKube
import SwiftProtobuf

/// A decoded Kubernetes message as the JSON Kubernetes itself would store and serve: the JSON
/// its Go type writes with encoding/json once the message is decoded into it. The rest of the
/// server (validation, defaulting, storage) then sees what a JSON client of the same object
/// would have sent, field for field: `replicas: 0` kept because it is a pointer,
/// `containerPort: 0` because it has no `omitempty`, an empty `name` left out because it has.
enum ProtobufJSON {
    static func value<M: Message>(of message: M) throws -> JSONValue {
        if let json = try SelfMarshalingTypes.json(of: message) { return json }
        var visitor = ProtoFieldVisitor()
        try message.traverse(visitor: &visitor)
        let name = M.protoMessageName
        if GoJSONFields.sliceMessages.contains(name) {
            return visitor.fields[1] ?? .null  // a named Go slice: nil is null
        }
        guard let declared = GoJSONFields.table[name] else {
            throw ProtobufBodyError.unknownMessage(name)
        }
        return try object(visitor.fields, declared, message: name)
    }

    /// The struct's JSON object: each Go field from the message when it was sent, else its zero
    /// value, each written or left out as its tags say.
    private static func object(_ sent: [Int: JSONValue], _ declared: [Int: GoJSONField], message: String) throws -> JSONValue {
        if let number = sent.keys.first(where: { declared[$0] == nil }) {
            throw ProtobufBodyError.unknownField(message: message, number: number)
        }
        var members: [String: JSONValue] = [:]
        for (number, field) in declared {
            let value: JSONValue
            if let carried = sent[number] {
                if field.presence == .omitEmpty && isEmpty(carried) { continue }
                value = carried
            } else {
                guard let absent = field.absent else { continue }
                value = try JSONCoding.decode(Array(absent.utf8))
            }
            if field.presence == .inline {
                guard case let .object(inner) = value else { continue }
                members.merge(inner) { outer, _ in outer }
            } else {
                members[field.key] = value
            }
        }
        return .object(members)
    }

    /// Go's `omitempty` test for the kinds it applies to: "", 0, false, and an empty slice or map.
    private static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case let .string(text): return text.isEmpty
        case let .int(number): return number == 0
        case let .double(number): return number == 0
        case let .bool(flag): return !flag
        case let .array(items): return items.isEmpty
        case let .object(members): return members.isEmpty
        case .null: return true
        }
    }
}
