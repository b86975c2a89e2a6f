import FairKube
import Foundation

/// Field ownership through every write, as kube-apiserver's field manager keeps it: an update
/// (create, PUT, a non-apply PATCH, a status or scale write) gives its manager the fields it
/// changed and takes them from the others; an apply merges a configuration in, owns exactly the
/// fields it sets, removes the ones it set before and nobody owns now, and stops with a
/// conflict where it would change another manager's field, unless forced.
struct FieldManager {
    let definition: KindDefinition
    /// "status" or "scale" for a write to that subresource; "" for the object itself.
    let subresource: String
    let schema: ApplySchema
    let type: ApplyType

    init(_ definition: KindDefinition, subresource: String?, schema: ApplySchema = .kubernetes) {
        self.definition = definition
        self.subresource = subresource ?? ""
        self.schema = schema
        type = schema.root(apiVersion: definition.apiVersion, kind: definition.kind)
    }

    /// Metadata the server sets or that names the object: nobody owns it.
    private static let serverMetadata = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                                         "selfLink", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds"]

    /// The part of a set this write may own: not the object's identity, not `status` through
    /// the object when status is a subresource of its own, and only `status` through that.
    func ownable(_ set: FieldSet) -> FieldSet {
        if subresource == "status" {
            var statusOnly = FieldSet()
            if set.members.contains(.field("status")) { statusOnly.insertMember(.field("status")) }
            if let status = set.child(.field("status")) { statusOnly.attach(status, at: .field("status")) }
            return statusOnly
        }
        var ignored = FieldSet()
        ignored.insertMember(.field("apiVersion"))
        ignored.insertMember(.field("kind"))
        for field in Self.serverMetadata { ignored.insert([.field("metadata"), .field(field)]) }
        if definition.subresources.contains("status") { ignored.insertMember(.field("status")) }
        return set.subtractingRecursively(ignored)
    }

    private func withoutManagedFields(_ object: JSONValue?) -> JSONValue? {
        guard var object else { return nil }
        object.set(nil, at: "metadata.managedFields")
        return object
    }

    private func manager(_ name: String, _ operation: ManagedFields.Operation) -> ManagedFields.Manager {
        ManagedFields.Manager(name: name, operation: operation, subresource: subresource)
    }

    /// `new` with its managedFields after an update from `old` (nil for a create) by `name`.
    /// `base` is the ownership to start from: the stored object's, or what the client sent.
    /// A change that cannot be tracked (a list with duplicate keys) leaves `base` as it was.
    func updated(old: JSONValue?, new: JSONValue, by name: String, base: ManagedFields, now: String) -> JSONValue {
        var result = new
        // An object that exists without ownership (made before fields were tracked, or cleared
        // with `[{}]`) stays untracked until its first apply, as in kube-apiserver.
        if old != nil && base.entries.isEmpty {
            result.set(nil, at: "metadata.managedFields")
            return result
        }
        var managed = base
        if let changes = try? FieldChanges(from: withoutManagedFields(old), to: withoutManagedFields(new), type, schema: schema) {
            let changed = ownable(changes.changed), removed = ownable(changes.removed)
            let me = manager(name, .update)
            managed.remove(changed, fromAllBut: me)
            managed.remove(removed, fromAllBut: me)
            let mine = (managed.entries[me]?.set ?? FieldSet()).subtracting(removed).union(changed)
            managed.set(mine, for: me, apiVersion: definition.apiVersion, now: now)
        }
        result.set(managed.encoded, at: "metadata.managedFields")
        return result
    }

    /// The fields other managers own that an apply would change.
    struct Conflicts: Error {
        let byManager: [(manager: ManagedFields.Manager, apiVersion: String, paths: [[PathElement]])]
    }

    /// The object after `config` is applied to `live` (nil when the object does not exist yet)
    /// by `name`, with its managedFields; throws `Conflicts` unless `force`.
    func applied(_ config: JSONValue, to live: JSONValue?, by name: String, force: Bool, now: String) throws -> JSONValue {
        var managed = try live.map(ManagedFields.init(of:)) ?? ManagedFields()
        var config = config
        if subresource.isEmpty, definition.subresources.contains("status") { config["status"] = nil }
        let live = withoutManagedFields(live)
        let me = manager(name, .apply)
        if let live, managed.entries.isEmpty {
            // The first apply to an untracked object: what is there belongs to someone already.
            let before = ManagedFields.Manager(name: "before-first-apply", operation: .update, subresource: subresource)
            let everything = try FieldChanges(from: nil, to: live, type, schema: schema).changed
            managed.set(ownable(everything), for: before, apiVersion: definition.apiVersion, now: now)
        }

        var merged = try AppliedMerge.merge(live, config, type, schema: schema) ?? config
        let configSet = ownable(try FieldSet(of: config, type, schema: schema))
        let lastSet = managed.entries[me]?.set
        managed.set(configSet, for: me, apiVersion: definition.apiVersion, now: now)
        if let lastSet {
            // What this manager set before and no longer does, and nobody else owns, goes.
            let owned = managed.allOwned
            let dropped = lastSet.subtracting(owned)
            if !dropped.isEmpty { merged = try AppliedMerge.removing(dropped, from: merged, keeping: owned, type, schema: schema) }
        }

        let changes = try FieldChanges(from: live, to: merged, type, schema: schema)
        let changed = ownable(changes.changed)
        if !force {
            var conflicts: [(ManagedFields.Manager, String, [[PathElement]])] = []
            // In the order of kube-apiserver's manager identifiers (JSON of name, operation, …).
            let ordered = managed.entries.sorted { a, b in
                (a.key.name + "\"", a.key.operation.rawValue, a.key.subresource) < (b.key.name + "\"", b.key.operation.rawValue, b.key.subresource)
            }
            for (other, entry) in ordered where other != me {
                let overlap = entry.set.intersection(changed)
                if !overlap.isEmpty { conflicts.append((other, entry.apiVersion, overlap.paths)) }
            }
            if !conflicts.isEmpty { throw Conflicts(byManager: conflicts.map { (manager: $0.0, apiVersion: $0.1, paths: $0.2) }) }
        }
        managed.remove(changed, fromAllBut: me)
        managed.remove(ownable(changes.removed), fromAllBut: me)
        var result = merged
        result.set(managed.encoded, at: "metadata.managedFields")
        return result
    }
}

extension FieldManager.Conflicts {
    /// How kube-apiserver words the manager of a conflict: `"kubectl"`, or for an update
    /// `"kubectl-edit" using apps/v1`, with its subresource if any.
    private static func describe(_ manager: ManagedFields.Manager, apiVersion: String) -> String {
        var text = "\"\(manager.name)\""
        if !manager.subresource.isEmpty { text += " with subresource \"\(manager.subresource)\"" }
        if manager.operation == .update { text += " using \(apiVersion)" }
        return text
    }

    /// The 409 kube-apiserver answers: one cause per field, and kubectl's message.
    var apiError: APIError {
        var causes: [StatusBody.Cause] = []
        var lines: [String] = []
        var count = 0
        for conflict in byManager {
            let who = Self.describe(conflict.manager, apiVersion: conflict.apiVersion)
            lines.append("conflicts with \(who):")
            for path in conflict.paths {
                let field = FieldSet.describe(path)
                causes.append(.init(reason: "FieldManagerConflict", message: "conflict with \(who)", field: field))
                lines.append("- \(field)")
                count += 1
            }
        }
        let message: String
        if count == 1, let only = byManager.first, let path = only.paths.first {
            message = "Apply failed with 1 conflict: conflict with \(Self.describe(only.manager, apiVersion: only.apiVersion)): \(FieldSet.describe(path))"
        } else {
            message = "Apply failed with \(count) conflicts: " + lines.joined(separator: "\n")
        }
        return APIError(code: 409, reason: "Conflict", message: message, details: .init(causes: causes))
    }
}
