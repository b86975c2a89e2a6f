import FairKube
import Foundation
import Hummingbird

/// Server-side apply: `PATCH` with `application/apply-patch+yaml`, as `kubectl apply
/// --server-side` and the apply methods of client libraries send it. The object is created
/// when missing; otherwise the configuration is merged in by `FieldManager`, and a change to a
/// field another manager owns is a 409 unless `force=true`.
extension APIServer {
    func apply(_ path: ResourcePath, name: String, config: JSONValue, query: Query, user: UserInfo) async throws -> Response {
        let definition = path.definition
        guard let manager = query["fieldManager"], !manager.isEmpty else {
            throw Self.invalidPatchOptions(field: "fieldManager", "Required value: is required for apply patch")
        }
        guard path.subresource == nil || path.subresource == "status" else {
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "apply is not supported on \(definition.plural)/\(path.subresource!)")
        }
        guard config.objectValue != nil else { throw APIError.badRequest("the apply body must be an object") }
        // An apply configuration names its kind; it must be the path's.
        guard config["apiVersion"]?.stringValue != nil, config["kind"]?.stringValue != nil else {
            throw APIError.badRequest("apiVersion and kind must be set in an apply configuration (\(definition.apiVersion), \(definition.kind))")
        }
        if config["apiVersion"]?.stringValue != definition.apiVersion || config["kind"]?.stringValue != definition.kind {
            let version = config["apiVersion"]?.stringValue ?? ""
            throw APIError.badRequest("invalid object type: \(version.contains("/") ? version : "/" + version), Kind=\(config["kind"]?.stringValue ?? "")")
        }
        if let sent = config.value(at: "metadata.managedFields"), !sent.isNull {
            throw APIError.badRequest("metadata.managedFields must be nil")
        }
        if let configName = config.name, configName != name {
            throw APIError.badRequest("the name of the object (\(configName)) does not match the name on the URL (\(name))")
        }
        let force = query.flag("force")
        let fields = FieldManager(definition, subresource: path.subresource)
        let dryRun = query["dryRun"] == "All"
        // Created when missing, merged when present; an object that appears or goes between
        // the two steps sends the apply round once more, as kube-apiserver retries it.
        for attempt in 0..<3 {
            do {
                if store.get(definition.storageKey, namespace: path.namespace ?? "", name: name) == nil, path.subresource == nil {
                    var object = try Self.applying(fields, config, to: nil, by: manager, force: force)
                    object.set(.string(name), at: "metadata.name")
                    return try await createApplied(path, object: object, query: query, user: user)
                }
                return try replace(path, name: name, dryRun: dryRun, user: user, manager: nil) { stored in
                    if let expected = Self.requestedVersion(config), expected != stored.resourceVersion {
                        throw APIError.conflict(definition, name, "the object has been modified; please apply your changes to the latest version and try again")
                    }
                    return try Self.applying(fields, config, to: stored, by: manager, force: force)
                }
            } catch let error as APIError where attempt < 2 && (error.reason == "AlreadyExists" || error.code == 404) {
                continue
            }
        }
        throw APIError.conflict(definition, name, "the object was created and deleted while it was applied; try again")
    }

    private static func applying(_ fields: FieldManager, _ config: JSONValue, to live: JSONValue?, by manager: String,
                                 force: Bool) throws -> JSONValue {
        do {
            return try fields.applied(config, to: live, by: manager, force: force, now: KubeTime.now())
        } catch let conflicts as FieldManager.Conflicts {
            throw conflicts.apiError
        } catch let error as ManagedFields.Invalid {
            throw APIError.invalid(fields.definition, live?.name ?? config.name ?? "", [("metadata.managedFields", error.description)])
        } catch let error as FieldShape.ItemError {
            throw APIError(code: 422, reason: "Invalid", message: "failed to apply the configuration: \(error.description)")
        }
    }

    /// kube-apiserver's answer to bad PatchOptions (fieldManager, force): 422 with one cause.
    static func invalidPatchOptions(field: String, _ message: String) -> APIError {
        APIError.invalid(options: "PatchOptions", field: field, message)
    }

    /// An object's managedFields as the client sent them; malformed ones are its error.
    static func managedFields(of object: JSONValue, _ definition: KindDefinition) throws -> ManagedFields {
        do {
            return try ManagedFields(of: object)
        } catch let error as ManagedFields.Invalid {
            throw APIError.invalid(definition, object.name ?? "", [("metadata.managedFields", error.description)])
        }
    }

    /// The manager of a write that is not an apply: `?fieldManager=`, else the client's
    /// User-Agent up to its first "/" (`kubectl`, `kube-controller-manager`), as kube-apiserver
    /// names it.
    static func fieldManager(query: Query, userAgent: String?) throws -> String {
        if let named = query["fieldManager"] {
            guard named.utf8.count <= 128 else {
                throw invalidPatchOptions(field: "fieldManager", "Too long: may not be more than 128 bytes")
            }
            guard named.unicodeScalars.allSatisfy({ $0.properties.generalCategory != .control && $0.value != 0x7f }) else {
                throw invalidPatchOptions(field: "fieldManager", "Invalid value: \"\(named)\": must only contain printable characters")
            }
            return named
        }
        let agent = userAgent ?? ""
        return String(String(agent.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").prefix(128))
    }
}
