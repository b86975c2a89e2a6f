import FairKube
import Foundation

/// `metadata.managedFields`: who owns which fields of an object, one entry per manager,
/// operation (Apply or Update) and subresource, each with its set as FieldsV1.
struct ManagedFields: Equatable {
    struct Manager: Hashable, Comparable {
        var name: String
        var operation: Operation
        var subresource: String

        static func < (a: Manager, b: Manager) -> Bool {
            (a.operation.rawValue, a.name, a.subresource) < (b.operation.rawValue, b.name, b.subresource)
        }
    }

    enum Operation: String {
        case apply = "Apply"
        case update = "Update"
    }

    struct Entry: Equatable {
        var set: FieldSet
        var apiVersion: String
        var time: String?
    }

    var entries: [Manager: Entry] = [:]

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// The entries of an object; a malformed list is the client's error.
    init(of object: JSONValue) throws {
        guard let list = object.value(at: "metadata.managedFields"), !list.isNull else { return }
        guard let items = list.arrayValue else { throw Invalid(description: "metadata.managedFields must be a list") }
        for (index, item) in items.enumerated() {
            let place = "metadata.managedFields[\(index)]"
            guard let fields = item.objectValue else { throw Invalid(description: "\(place) must be an object") }
            // `[{}]` is how a client clears every entry.
            if fields.isEmpty { continue }
            let name = fields["manager"]?.stringValue ?? ""
            guard let operation = Operation(rawValue: fields["operation"]?.stringValue ?? "") else {
                throw Invalid(description: "\(place).operation: Unsupported value: must be \"Apply\" or \"Update\"")
            }
            if let type = fields["fieldsType"]?.stringValue, type != "FieldsV1" {
                throw Invalid(description: "\(place).fieldsType: Invalid value: \"\(type)\": must be `FieldsV1`")
            }
            let set: FieldSet
            do {
                set = try FieldSet(fieldsV1: fields["fieldsV1"] ?? .object([:]))
            } catch {
                throw Invalid(description: "\(place).fieldsV1: Invalid value: \(error)")
            }
            let manager = Manager(name: name, operation: operation, subresource: fields["subresource"]?.stringValue ?? "")
            entries[manager] = Entry(set: set, apiVersion: fields["apiVersion"]?.stringValue ?? "", time: fields["time"]?.stringValue)
        }
    }

    init() {}

    /// The entries as the object carries them, ordered as Kubernetes orders them (Apply before
    /// Update, then by time and name); nil when there are none.
    var encoded: JSONValue? {
        guard !entries.isEmpty else { return nil }
        let ordered = entries.sorted { a, b in
            if a.key.operation != b.key.operation { return a.key.operation.rawValue < b.key.operation.rawValue }
            if (a.value.time ?? "") != (b.value.time ?? "") { return (a.value.time ?? "") < (b.value.time ?? "") }
            return a.key < b.key
        }
        return .array(ordered.map { manager, entry in
            var fields: [String: JSONValue] = [
                "manager": .string(manager.name), "operation": .string(manager.operation.rawValue),
                "apiVersion": .string(entry.apiVersion), "fieldsType": "FieldsV1", "fieldsV1": entry.set.fieldsV1,
            ]
            if let time = entry.time { fields["time"] = .string(time) }
            if !manager.subresource.isEmpty { fields["subresource"] = .string(manager.subresource) }
            return .object(fields)
        })
    }

    /// Sets a manager's set, stamping the time only when the set changed (so a write that
    /// changes nothing leaves the object as it was); an empty set removes the entry.
    mutating func set(_ set: FieldSet, for manager: Manager, apiVersion: String, now: String) {
        if set.isEmpty {
            entries[manager] = nil
            return
        }
        let previous = entries[manager]
        let time = previous?.set == set && previous?.apiVersion == apiVersion ? previous?.time : now
        entries[manager] = Entry(set: set, apiVersion: apiVersion, time: time)
    }

    /// Takes `fields` away from every manager but `except`; entries left empty go.
    mutating func remove(_ fields: FieldSet, fromAllBut except: Manager) {
        guard !fields.isEmpty else { return }
        for (manager, entry) in entries where manager != except {
            let remaining = entry.set.subtracting(fields)
            if remaining == entry.set { continue }
            if remaining.isEmpty {
                entries[manager] = nil
            } else {
                entries[manager]?.set = remaining
            }
        }
    }

    /// Everything any manager owns.
    var allOwned: FieldSet {
        entries.values.reduce(FieldSet()) { $0.union($1.set) }
    }
}
