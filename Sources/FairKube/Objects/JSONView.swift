import Foundation

/// A typed view of part of an API object: properties named as Kubernetes names the fields, read
/// from and written into the JSON it wraps. Nothing is decoded ahead or dropped, so fields the
/// view does not name (newer API versions, other tools' additions) round-trip unchanged, and a
/// misspelt field is a compile error instead of a silent nil.
public protocol JSONView: Sendable {
    var json: JSONValue { get set }
    init(json: JSONValue)
}

extension JSONView {
    public init() { self.init(json: .object([:])) }

    // Readers: absent, null and values of another type all read as nil.
    func string(_ key: String) -> String? { json[key]?.stringValue }
    func int(_ key: String) -> Int64? { json[key]?.intValue }
    func bool(_ key: String) -> Bool? { json[key]?.boolValue }
    func time(_ key: String) -> Date? { KubeTime.parse(json[key]) }
    /// A list of strings; nil when absent (so "not given" differs from "empty").
    func list(_ key: String) -> [String]? { json[key]?.arrayValue.map { $0.compactMap(\.stringValue) } }
    func strings(_ key: String) -> [String: String] { (json[key]?.objectValue ?? [:]).compactMapValues(\.stringValue) }
    func view<V: JSONView>(_ key: String) -> V { V(json: json[key] ?? .object([:])) }
    func views<V: JSONView>(_ key: String) -> [V] { (json[key]?.arrayValue ?? []).map { V(json: $0) } }

    // Writers: nil removes the field, as an omitted optional field is absent in Kubernetes' JSON.
    mutating func set(_ key: String, _ value: String?) { json.set(value.map(JSONValue.string), at: [key]) }
    mutating func set(_ key: String, _ value: Int64?) { json.set(value.map(JSONValue.int), at: [key]) }
    mutating func set(_ key: String, _ value: Bool?) { json.set(value.map(JSONValue.bool), at: [key]) }
    mutating func set(_ key: String, time value: Date?) { json.set(value.map { .string(KubeTime.format($0)) }, at: [key]) }
    mutating func set(_ key: String, list value: [String]?) { json.set(value.map { .array($0.map(JSONValue.string)) }, at: [key]) }
    mutating func set(_ key: String, strings value: [String: String]) {
        json.set(value.isEmpty ? nil : .object(value.mapValues(JSONValue.string)), at: [key])
    }
    mutating func set<V: JSONView>(_ key: String, view value: V) { json.set(value.json, at: [key]) }
    mutating func set<V: JSONView>(_ key: String, views value: [V]) { json.set(value.isEmpty ? nil : .array(value.map(\.json)), at: [key]) }
}
