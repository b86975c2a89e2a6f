import FairKube
import Foundation

/// The OpenAPI v3 description of the served kinds, per group-version, with Kubernetes' own
/// component schemas (descriptions, types, x-kubernetes-* extensions) for each kind and every
/// type it reaches. `kubectl explain` reads it, and kubectl learns from the `fieldValidation`
/// parameter that the server validates fields itself.
enum OpenAPI {
    static func discovery() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for definition in KindCatalog.all {
            let key = definition.groupVersionPath
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)")]
        }
        return ["paths": .object(paths)]
    }

    /// The document for `api/v1`, `apis/apps/v1`, …; nil for anything else. Built once.
    static func document(_ groupVersionPath: String) -> JSONValue? {
        documents.lock.lock()
        defer { documents.lock.unlock() }
        if let cached = documents.byPath[groupVersionPath] { return cached }
        guard let built = build(groupVersionPath) else { return nil }
        documents.byPath[groupVersionPath] = built
        return built
    }

    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var byPath: [String: JSONValue] = [:]
    }

    private static let documents = Cache()

    /// Kubernetes' schemas, by definition name (`io.k8s.api.core.v1.Pod`).
    static let schemas: [String: JSONValue] = {
        (try? JSONCoding.decode(Array(KubernetesOpenAPISchemas.json.utf8)))?.objectValue ?? [:]
    }()

    /// The definition name Kubernetes gives a kind's schema.
    static func schemaName(_ definition: KindDefinition) -> String {
        "io.k8s.api.\(definition.group.isEmpty ? "core" : definition.group.split(separator: ".").first.map(String.init) ?? definition.group).\(definition.version).\(definition.kind)"
    }

    private static func build(_ groupVersionPath: String) -> JSONValue? {
        let definitions = KindCatalog.all.filter { $0.groupVersionPath == groupVersionPath }
        guard !definitions.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        var components: [String: JSONValue] = [:]
        let fieldValidation: JSONValue = ["name": "fieldValidation", "in": "query", "schema": ["type": "string"],
                                          "description": "Strict, Warn or Ignore"]
        for definition in definitions {
            let gvk: JSONValue = ["group": .string(definition.group), "version": .string(definition.version), "kind": .string(definition.kind)]
            let prefix = "/\(groupVersionPath)"
            let collection = definition.namespaced ? "\(prefix)/namespaces/{namespace}/\(definition.plural)" : "\(prefix)/\(definition.plural)"
            var name = schemaName(definition)
            if schemas[name] != nil {
                addReachable(from: name, into: &components)
            } else {
                // No schema of Kubernetes' for it: an object that keeps whatever it is given.
                name = "fair.\(definition.group.isEmpty ? "core" : definition.group).\(definition.version).\(definition.kind)"
                components[name] = ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-group-version-kind": [gvk]]
            }
            let reference: JSONValue = ["$ref": .string("#/components/schemas/\(name)")]
            let body: JSONValue = ["content": ["application/json": ["schema": reference]]]
            let response: JSONValue = ["200": ["description": "OK", "content": ["application/json": ["schema": reference]]]]
            // The patch types the server applies, as kube-apiserver lists them: kubectl's
            // client-side apply sends a strategic merge patch only where the path says so.
            var patchContent: [String: JSONValue] = [:]
            for type in ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                         "application/strategic-merge-patch+json"] {
                patchContent[type] = ["schema": ["type": "object"]]
            }
            func operation(_ action: String) -> JSONValue {
                ["x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": .string(action),
                 "parameters": [fieldValidation], "requestBody": action == "patch" ? ["content": .object(patchContent)] : body,
                 "responses": response]
            }
            paths[collection] = ["post": operation("post"), "get": ["x-kubernetes-group-version-kind": gvk, "responses": response]]
            paths["\(collection)/{name}"] = ["put": operation("put"), "patch": operation("patch"),
                                             "get": ["x-kubernetes-group-version-kind": gvk, "responses": response]]
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string("v\(KubernetesTypeSchemas.kubernetesVersion)")],
                "paths": .object(paths), "components": ["schemas": .object(components)]]
    }

    /// Swagger 2.0 (`/openapi/v2`, for clients that read no v3): every served kind's schema and
    /// what it reaches, under `definitions`, as kube-apiserver publishes it. Built once.
    static let version2: JSONValue = {
        var components: [String: JSONValue] = [:]
        for definition in KindCatalog.all where schemas[schemaName(definition)] != nil {
            addReachable(from: schemaName(definition), into: &components)
        }
        let definitions = components.mapValues { rewriteReferences($0, from: "#/components/schemas/", to: "#/definitions/") }
        return ["swagger": "2.0", "info": ["title": "Kubernetes", "version": .string("v\(KubernetesTypeSchemas.kubernetesVersion)")],
                "paths": [:], "definitions": .object(definitions)]
    }()

    private static func rewriteReferences(_ value: JSONValue, from old: String, to new: String) -> JSONValue {
        switch value {
        case let .object(members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members {
                if key == "$ref", let ref = member.stringValue, ref.hasPrefix(old) {
                    result[key] = .string(new + ref.dropFirst(old.count))
                } else {
                    result[key] = rewriteReferences(member, from: old, to: new)
                }
            }
            return .object(result)
        case let .array(items):
            return .array(items.map { rewriteReferences($0, from: old, to: new) })
        default:
            return value
        }
    }

    /// `name` and every schema its `$ref`s reach.
    private static func addReachable(from name: String, into components: inout [String: JSONValue]) {
        var pending = [name]
        while let next = pending.popLast() {
            guard components[next] == nil, let schema = schemas[next] else { continue }
            components[next] = schema
            collectReferences(schema, into: &pending)
        }
    }

    private static func collectReferences(_ value: JSONValue, into names: inout [String]) {
        switch value {
        case let .object(members):
            if let ref = members["$ref"]?.stringValue, ref.hasPrefix("#/components/schemas/") {
                names.append(String(ref.dropFirst("#/components/schemas/".count)))
            }
            for member in members.values { collectReferences(member, into: &names) }
        case let .array(items):
            for item in items { collectReferences(item, into: &names) }
        default:
            break
        }
    }
}
