import FairKube
import Foundation
import Hummingbird

/// POST, PUT, PATCH and DELETE: every change goes through defaulting, validation and the store's
/// resourceVersion check, so concurrent writers get a 409 instead of silently losing an update.
extension APIServer {
    private static let nameSuffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    func create(_ path: ResourcePath, body: JSONValue?, query: Query, user: UserInfo, manager: String) async throws -> Response {
        let definition = path.definition
        guard let object = body, object.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON object") }
        if path.subresource == "binding", let name = path.name {
            return try bind(path, pod: name, binding: object)
        }
        if path.subresource == "token", let name = path.name {
            return try tokenRequest(path, name: name, body: object, user: user)
        }
        guard path.name == nil else { throw APIError.methodNotAllowed("POST to a named \(definition.plural) is not supported") }
        return try createObject(path, object, query: query, user: user, manager: manager)
    }

    /// Creates what an apply made of a missing object (its fields recorded already).
    func createApplied(_ path: ResourcePath, object: JSONValue, query: Query, user: UserInfo) async throws -> Response {
        try createObject(path, object, query: query, user: user, manager: nil)
    }

    private func createObject(_ path: ResourcePath, _ object: JSONValue, query: Query, user: UserInfo, manager: String?) throws -> Response {
        let definition = path.definition
        var object = object
        try Self.checkTypeMeta(object, definition)
        let namespace = try namespace(for: path, object: object)
        if object.name == nil || object.name!.isEmpty, let prefix = object.value(at: "metadata.generateName")?.stringValue, !prefix.isEmpty {
            let suffix = String((0..<5).map { _ in Self.nameSuffixAlphabet.randomElement()! })
            object.set(.string(prefix + suffix), at: "metadata.name")
        }
        Admission.prepareNew(&object, definition, namespace: namespace)
        // Admission plugins that read other objects: a pod's account and its token volume, a
        // claim's default class.
        if definition == .pod { try ServiceAccountAdmission.admit(&object, store: store) }
        if definition == .persistentVolumeClaim { StorageAdmission.admit(&object, store: store) }
        if definition == .certificateSigningRequest { CertificateRequestAdmission.admit(&object, user: user) }
        if definition == .service, let range = serviceIPRange {
            // From choosing the address to storing it, so no two Services get the same one.
            return try serviceIPLock.withLock {
                try ServiceIPAllocation.admitCreate(&object, range: range, store: store)
                return try store(new: object, definition, namespace: namespace, query: query, user: user, manager: manager)
            }
        }
        return try store(new: object, definition, namespace: namespace, query: query, user: user, manager: manager)
    }

    /// The last checks of a create (node restriction, validation, escalation), then the write.
    /// `manager` is who the created fields belong to; nil when an apply has recorded that already.
    private func store(new object: JSONValue, _ definition: KindDefinition, namespace: String, query: Query, user: UserInfo,
                       manager: String?) throws -> Response {
        var object = object
        let name = object.name ?? ""
        if let manager {
            let sent = try Self.managedFields(of: object, definition)
            object = FieldManager(definition, subresource: nil).updated(old: nil, new: object, by: manager, base: sent, now: KubeTime.now())
        }
        try NodeRestriction.admitCreate(object, definition, user: user)
        let causes = Admission.validate(object, definition)
        if !causes.isEmpty { throw APIError.invalid(definition, name, causes) }
        try authorizer.checkEscalation(by: user, writing: object, definition, namespace: namespace)
        if query["dryRun"] == "All" { return Self.json(object, status: 201) }
        let stored = try store.write(definition.storageKey, namespace: namespace, name: name) { existing in
            if existing != nil { throw APIError.alreadyExists(definition, name) }
            return object
        }
        return Self.json(encoded: stored.encoded, status: 201)
    }

    private func namespace(for path: ResourcePath, object: JSONValue) throws -> String {
        guard path.definition.namespaced else { return "" }
        let fromBody = object.namespace.flatMap { $0.isEmpty ? nil : $0 }
        let namespace = path.namespace ?? fromBody ?? "default"
        if let fromBody, fromBody != namespace {
            throw APIError.badRequest("the namespace of the provided object (\(fromBody)) does not match the namespace sent on the request (\(namespace))")
        }
        let namespaces = KindDefinition.namespace
        guard let stored = store.get(namespaces.storageKey, namespace: "", name: namespace) else {
            throw APIError.notFound(namespaces, namespace)
        }
        if stored.object.value(at: "metadata.deletionTimestamp") != nil {
            throw APIError(code: 403, reason: "Forbidden", message: "namespace \(namespace) is being terminated")
        }
        return namespace
    }

    func update(_ path: ResourcePath, body: JSONValue?, query: Query, user: UserInfo, manager: String) throws -> Response {
        guard let body, body.objectValue != nil, let name = path.name else {
            throw APIError.badRequest("PUT needs a named object and a JSON body")
        }
        try Self.checkTypeMeta(body, definition: path)
        if let bodyName = body.name, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        return try replace(path, name: name, dryRun: query["dryRun"] == "All", user: user, manager: manager) { stored in
            if let expected = Self.requestedVersion(body), expected != stored.resourceVersion {
                throw APIError.conflict(path.definition, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            return body
        }
    }

    func patch(_ path: ResourcePath, body: JSONValue?, contentType: String, query: Query, user: UserInfo, manager: String) async throws -> Response {
        guard let body, let name = path.name else { throw APIError.badRequest("PATCH needs a named object and a body") }
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if type == ApplyBody.contentType {
            return try await apply(path, name: name, config: body, query: query, user: user)
        }
        if query["force"] != nil {
            throw Self.invalidPatchOptions(field: "force", "Forbidden: may not be specified for non-apply patch")
        }
        return try replace(path, name: name, dryRun: query["dryRun"] == "All", user: user, manager: manager) { stored in
            var base = stored
            if path.subresource == "scale" { base = self.scale(of: stored) }
            let patched: JSONValue
            switch type {
            case "application/merge-patch+json": patched = Patch.merge(base, body)
            case "application/strategic-merge-patch+json": patched = Patch.strategicMerge(base, body)
            case "application/json-patch+json": patched = try Patch.json(base, body, maximumSize: Limits.storedObject)
            default:
                throw APIError(code: 415, reason: "UnsupportedMediaType",
                               message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json")
            }
            if let expected = Self.requestedVersion(body), expected != stored.resourceVersion {
                throw APIError.conflict(path.definition, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            return patched
        }
    }

    /// Shared by PUT and PATCH: `produce` turns the stored object into the requested one; this
    /// keeps what the caller may not change (identity, and status or spec depending on the
    /// subresource), bumps the generation when the spec changed, validates, and gives `manager`
    /// the fields the write changed (nil: an apply, which has recorded its fields itself).
    func replace(_ path: ResourcePath, name: String, dryRun: Bool, user: UserInfo, manager: String?,
                 _ produce: @escaping (JSONValue) throws -> JSONValue) throws -> Response {
        let definition = path.definition
        let namespace = path.namespace ?? ""
        if path.subresource == "approval", !user.isSuperuser,
           let signer = store.get(definition.storageKey, namespace: namespace, name: name)?.object.value(at: "spec.signerName")?.stringValue {
            let asks = CertificateRequestAdmission.approveAttributes(user: user, signerName: signer)
            guard asks.contains(where: { authorizer.authorize($0).allowed }) else {
                throw APIError(code: 403, reason: "Forbidden",
                               message: "certificatesigningrequests.certificates.k8s.io \"\(name)\" is forbidden: user not permitted to approve requests with signerName \"\(signer)\"")
            }
        }
        var result: JSONValue = .null
        var removed = false
        let write: (ObjectStore.Stored?) throws -> JSONValue? = { existing in
            guard let existing else { throw APIError.notFound(definition, name) }
            let stored = existing.object
            let requested = try produce(stored)
            var object: JSONValue
            switch path.subresource {
            case "status" where definition == .certificateSigningRequest, "approval":
                object = CertificateRequestAdmission.merge(stored: stored, requested: requested, subresource: path.subresource ?? "")
            case "status":
                object = stored
                object["status"] = requested["status"]
            case "scale":
                object = stored
                if let replicas = requested.value(at: "spec.replicas") { object.set(replicas, at: "spec.replicas") }
            default:
                object = requested
                if definition.subresources.contains("status") { object["status"] = stored["status"] }
            }
            for field in ["uid", "creationTimestamp", "namespace", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
                object.set(stored.value(at: "metadata.\(field)"), at: "metadata.\(field)")
            }
            object["apiVersion"] = .string(definition.apiVersion)
            object["kind"] = .string(definition.kind)
            object.set(.string(name), at: "metadata.name")
            if object["spec"] != stored["spec"] {
                object.set(.int((stored.value(at: "metadata.generation")?.intValue ?? 1) + 1), at: "metadata.generation")
            }
            definition.defaults(&object)
            if definition == .service, path.subresource == nil { try ServiceIPAllocation.admitUpdate(old: stored, new: &object) }
            if let manager {
                // The ownership to start from: what the client sent, if it changed it (`[{}]`
                // clears it), else the stored object's.
                let sent = requested.value(at: "metadata.managedFields")
                let base = try Self.managedFields(of: sent != nil && sent != stored.value(at: "metadata.managedFields") ? requested : stored, definition)
                object = FieldManager(definition, subresource: path.subresource).updated(old: stored, new: object, by: manager, base: base, now: KubeTime.now())
            } else if path.subresource == nil || path.subresource == "status" {
                object.set(requested.value(at: "metadata.managedFields"), at: "metadata.managedFields")
            }
            var causes = Admission.validate(object, definition)
            if causes.isEmpty { causes += definition.validateUpdate(stored, object).map { ($0.field, $0.message) } }
            causes += Self.finalizerCauses(old: stored, new: object)
            if !causes.isEmpty { throw APIError.invalid(definition, name, causes) }
            result = object
            if dryRun { return stored }
            // The last finalizer of an object being deleted is gone: the delete completes now.
            if Self.deletionComplete(object) {
                removed = true
                return nil
            }
            return object
        }
        // RBAC objects are checked for escalation against the user's rules, which are read from
        // the store: outside its lock, on the object this update makes of the current one. The
        // write then proceeds only if it makes the same object (else: a conflict, try again).
        var checked: JSONValue?
        if dryRun || !user.isSuperuser && definition.group == RBACRules.group {
            guard let existing = store.get(definition.storageKey, namespace: namespace, name: name) else { throw APIError.notFound(definition, name) }
            _ = try write(existing)
            try authorizer.checkEscalation(by: user, writing: result, definition, namespace: namespace)
            if dryRun { return Self.json(result) }
            checked = result
            removed = false
        }
        let (stored, _, encoded) = try store.write(definition.storageKey, namespace: namespace, name: name) { existing in
            let written = try write(existing)
            if let checked, result != checked {
                throw APIError.conflict(definition, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            return written
        }
        if removed {
            try afterRemoval(definition, object: stored, namespace: namespace, orphan: false)
            return Self.json(result)
        }
        return path.subresource == "scale" ? Self.json(scale(of: stored)) : Self.json(encoded: encoded)
    }

    /// A body names what it is; that must be what the path holds, or a Pod sent to `configmaps`
    /// would be stored as a ConfigMap. Either may be left out (the path then says it).
    static func checkTypeMeta(_ object: JSONValue, _ definition: KindDefinition) throws {
        if let apiVersion = object["apiVersion"], !apiVersion.isNull {
            guard let text = apiVersion.stringValue, text == definition.apiVersion else {
                throw APIError.badRequest("the API version in the data (\(apiVersion.stringValue ?? "\(apiVersion)")) does not match the expected API version (\(definition.apiVersion))")
            }
        }
        if let kind = object["kind"], !kind.isNull {
            guard let text = kind.stringValue, text == definition.kind else {
                throw APIError.badRequest("the kind in the data (\(kind.stringValue ?? "\(kind)")) does not match the expected kind (\(definition.kind)) of \(definition.plural)")
            }
        }
    }

    static func checkTypeMeta(_ object: JSONValue, definition path: ResourcePath) throws {
        // A status or scale body is of its own kind (Scale), checked by what reads it.
        guard path.subresource == nil else { return }
        try checkTypeMeta(object, path.definition)
    }

    /// The resourceVersion a write is conditional on, however the client wrote it: kube's is a
    /// string, but `"resourceVersion": 12` must be compared too, not skipped.
    static func requestedVersion(_ body: JSONValue) -> String? {
        switch body.value(at: "metadata.resourceVersion") {
        case let .string(text)? where !text.isEmpty: return text
        case let .int(number)?: return String(number)
        case let .double(number)?: return String(number)
        default: return nil
        }
    }

    /// While an object is being deleted its finalizers may only go, never come (kube-apiserver's rule).
    static func finalizerCauses(old: JSONValue, new: JSONValue) -> [(field: String, message: String)] {
        guard old.value(at: "metadata.deletionTimestamp") != nil else { return [] }
        let before = Set((old.value(at: "metadata.finalizers")?.arrayValue ?? []).compactMap(\.stringValue))
        let added = (new.value(at: "metadata.finalizers")?.arrayValue ?? []).compactMap(\.stringValue).filter { !before.contains($0) }
        guard !added.isEmpty else { return [] }
        return [("metadata.finalizers", "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers \(added)")]
    }

    /// Marked for deletion, nothing left to wait for: no finalizers and no grace period to run.
    static func deletionComplete(_ object: JSONValue) -> Bool {
        guard object.value(at: "metadata.deletionTimestamp") != nil else { return false }
        guard (object.value(at: "metadata.finalizers")?.arrayValue ?? []).isEmpty else { return false }
        return (object.value(at: "metadata.deletionGracePeriodSeconds")?.intValue ?? 0) == 0
    }

    /// pods/binding: the scheduler's decision, set once.
    private func bind(_ path: ResourcePath, pod name: String, binding: JSONValue) throws -> Response {
        guard let node = binding.value(at: "target.name")?.stringValue, !node.isEmpty else {
            throw APIError.invalid(path.definition, name, [("target.name", "Required value")])
        }
        try store.write(path.definition.storageKey, namespace: path.namespace ?? "", name: name) { existing in
            guard var pod = existing?.object else { throw APIError.notFound(path.definition, name) }
            if let current = pod.value(at: "spec.nodeName")?.stringValue, !current.isEmpty {
                throw APIError.conflict(path.definition, name, "pod \(name) is already assigned to node \"\(current)\"")
            }
            pod.set(.string(node), at: "spec.nodeName")
            var conditions = (pod.value(at: "status.conditions")?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
            conditions.append(["type": "PodScheduled", "status": "True", "lastTransitionTime": .string(KubeTime.now())])
            pod.set(.array(conditions), at: "status.conditions")
            return pod
        }
        return Self.json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201], status: 201)
    }

    func delete(_ path: ResourcePath, body: JSONValue?, query: Query) throws -> Response {
        let definition = path.definition
        guard let name = path.name else { return try deleteCollection(path, query: query) }
        let namespace = path.namespace ?? ""
        let propagation = body?["propagationPolicy"]?.stringValue ?? query["propagationPolicy"] ?? "Background"
        let preconditions = body?["preconditions"]
        let grace = body?["gracePeriodSeconds"]?.intValue ?? query["gracePeriodSeconds"].flatMap { Int64($0) }
        let (object, removed) = try remove(definition, namespace: namespace, name: name, gracePeriod: grace) { existing in
            if let uid = preconditions?["uid"]?.stringValue, uid != existing.uid {
                throw APIError.conflict(definition, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(existing.uid ?? "")")
            }
            if let version = preconditions?["resourceVersion"]?.stringValue, version != existing.resourceVersion {
                throw APIError.conflict(definition, name, "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(existing.resourceVersion ?? "")")
            }
        }
        guard removed else { return Self.json(object) }
        try afterRemoval(definition, object: object, namespace: namespace, orphan: propagation == "Orphan")
        return deletedResponse(definition, object: object)
    }

    /// What DELETE answers once the object is gone: the object for resources whose store returns
    /// it (pods, services, namespaces), otherwise a `Status` naming what was deleted.
    private func deletedResponse(_ definition: KindDefinition, object: JSONValue) -> Response {
        if definition.returnsDeletedObject { return Self.json(object) }
        return Self.status(StatusBody(status: "Success", details: .init(name: object.name, group: definition.group,
                                                                        kind: definition.plural, uid: object.uid), code: 200))
    }

    /// Dependents follow a removed owner; a namespace takes its contents along.
    func afterRemoval(_ definition: KindDefinition, object: JSONValue, namespace: String, orphan: Bool) throws {
        if definition.containsObjects, let name = object.name {
            try deleteNamespaceContents(name)
        } else if let uid = object.uid {
            try cascade(from: uid, namespace: namespace, orphan: orphan)
        }
    }

    /// Removes one object, unless something must happen first: a pod that may still be running
    /// on a node is marked terminating (deletionTimestamp) and its node agent removes it once its
    /// containers stopped, as the kubelet does; an object with finalizers is marked and stays
    /// until whoever set them removes the last one. Returns the object and whether it is gone.
    private func remove(_ definition: KindDefinition, namespace: String, name: String, gracePeriod requested: Int64?,
                        check: @escaping (JSONValue) throws -> Void = { _ in }) throws -> (JSONValue, Bool) {
        var removed = true
        let (object, _, _) = try store.write(definition.storageKey, namespace: namespace, name: name) { existing in
            guard let existing else { throw APIError.notFound(definition, name) }
            try check(existing.object)
            removed = true
            var object = existing.object
            if let grace = definition.gracePeriod(object, requested) {
                removed = false
                if let current = object.value(at: "metadata.deletionGracePeriodSeconds")?.intValue, current <= grace {
                    return object  // already terminating, at least as soon
                }
                let deadline = Date().addingTimeInterval(TimeInterval(grace))
                object.set(.string(KubeTime.format(deadline)), at: "metadata.deletionTimestamp")
                object.set(.int(grace), at: "metadata.deletionGracePeriodSeconds")
                return object
            }
            if !(object.value(at: "metadata.finalizers")?.arrayValue ?? []).isEmpty {
                removed = false
                if object.value(at: "metadata.deletionTimestamp") == nil {
                    object.set(.string(KubeTime.now()), at: "metadata.deletionTimestamp")
                }
                object.set(.int(0), at: "metadata.deletionGracePeriodSeconds")
                return object
            }
            return nil
        }
        return (object, removed)
    }

    /// Dependents of a deleted owner (through ownerReferences) are deleted too, or released
    /// (`Orphan`). Done at once, in the same request, so nothing is left pointing at a ghost.
    private func cascade(from ownerUID: String, namespace: String, orphan: Bool) throws {
        for definition in KindCatalog.all where definition.namespaced {
            for stored in store.list(definition.storageKey, namespace: namespace).items {
                let references = stored.object.ownerReferences
                guard references.contains(where: { $0["uid"]?.stringValue == ownerUID }), let name = stored.object.name else { continue }
                if orphan {
                    try store.write(definition.storageKey, namespace: namespace, name: name) { existing in
                        guard var object = existing?.object else { return nil }
                        object.set(.array(references.filter { $0["uid"]?.stringValue != ownerUID }), at: "metadata.ownerReferences")
                        return object
                    }
                } else if let (object, gone) = try? remove(definition, namespace: namespace, name: name, gracePeriod: nil),
                          gone, let uid = object.uid {
                    try cascade(from: uid, namespace: namespace, orphan: false)
                }
            }
        }
    }

    private func deleteNamespaceContents(_ namespace: String) throws {
        for definition in KindCatalog.all where definition.namespaced {
            for stored in store.list(definition.storageKey, namespace: namespace).items {
                guard let name = stored.object.name else { continue }
                _ = try? remove(definition, namespace: namespace, name: name, gracePeriod: nil)
            }
        }
    }

    private func deleteCollection(_ path: ResourcePath, query: Query) throws -> Response {
        let definition = path.definition
        let (labels, fields) = try filters(query, definition)
        var deleted: [JSONValue] = []
        for stored in store.list(definition.storageKey, namespace: path.namespace).items
        where labels.matches(stored.object.labels) && (fields?.matches(stored.object) ?? true) {
            guard let name = stored.object.name else { continue }
            if let (object, gone) = try? remove(definition, namespace: stored.object.namespace ?? "", name: name, gracePeriod: nil) {
                deleted.append(object)
                if gone, let uid = object.uid { try cascade(from: uid, namespace: stored.object.namespace ?? "", orphan: false) }
            }
        }
        return Self.json(["kind": .string("\(definition.kind)List"), "apiVersion": .string(definition.apiVersion),
                          "metadata": ["resourceVersion": .string(String(store.currentRevision))], "items": .array(deleted)])
    }
}
