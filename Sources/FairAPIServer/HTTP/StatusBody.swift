import FairKube
import Foundation

/// A `meta/v1 Status` written in kube-apiserver's field order (the order of the Go struct:
/// kind, apiVersion, metadata, status, message, reason, details, code; in details name, group,
/// kind, uid, causes; in a cause reason, message, field). Some clients compare error bodies as
/// text, so the order is part of the contract; every other object keeps sorted keys.
struct StatusBody {
    var status: String
    var message: String?
    var reason: String?
    var details: Details?
    var code: Int

    struct Details {
        var name: String?
        var group: String?
        /// The resource (plural) for most statuses, as kube-apiserver fills it.
        var kind: String?
        var uid: String?
        var causes: [Cause] = []
    }

    struct Cause {
        var reason: String
        var message: String
        var field: String
    }

    func encoded() -> Data {
        var members: [(String, Member)] = [("kind", "Status"), ("apiVersion", "v1"), ("metadata", [:]), ("status", .string(status))]
        if let message { members.append(("message", .string(message))) }
        if let reason, !reason.isEmpty { members.append(("reason", .string(reason))) }
        if let details { members.append(("details", .raw(details.encoded()))) }
        members.append(("code", .int(Int64(code))))
        return Self.object(members)
    }

    /// Members in the given order; a value is either plain JSON or already-encoded text.
    fileprivate enum Member {
        case json(JSONValue)
        case raw(Data)
    }

    fileprivate static func object(_ members: [(String, Member)]) -> Data {
        var data = Data("{".utf8)
        for (index, (key, value)) in members.enumerated() {
            if index > 0 { data.append(UInt8(ascii: ",")) }
            data.append(JSONCoding.encode(.string(key)))
            data.append(UInt8(ascii: ":"))
            switch value {
            case let .json(json): data.append(JSONCoding.encode(json))
            case let .raw(raw): data.append(raw)
            }
        }
        data.append(UInt8(ascii: "}"))
        return data
    }
}

extension StatusBody.Details {
    func encoded() -> Data {
        var members: [(String, StatusBody.Member)] = []
        if let name, !name.isEmpty { members.append(("name", .json(.string(name)))) }
        if let group, !group.isEmpty { members.append(("group", .json(.string(group)))) }
        if let kind, !kind.isEmpty { members.append(("kind", .json(.string(kind)))) }
        if let uid, !uid.isEmpty { members.append(("uid", .json(.string(uid)))) }
        if !causes.isEmpty {
            var list = Data("[".utf8)
            for (index, cause) in causes.enumerated() {
                if index > 0 { list.append(UInt8(ascii: ",")) }
                list.append(StatusBody.object([("reason", .json(.string(cause.reason))), ("message", .json(.string(cause.message))),
                                               ("field", .json(.string(cause.field)))]))
            }
            list.append(UInt8(ascii: "]"))
            members.append(("causes", .raw(list)))
        }
        return StatusBody.object(members)
    }
}

extension StatusBody.Member: ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral {
    init(stringLiteral value: String) { self = .json(.string(value)) }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .json(.object(Dictionary(uniqueKeysWithValues: elements))) }
    static func string(_ value: String) -> Self { .json(.string(value)) }
    static func int(_ value: Int64) -> Self { .json(.int(value)) }
}
