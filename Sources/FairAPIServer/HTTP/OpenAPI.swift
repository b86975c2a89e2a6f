import FairKube

/// A small OpenAPI v3 description of the served resources: per group-version, the paths with
/// their operations tagged by group/version/kind, and object schemas that preserve unknown
/// fields. kubectl reads it to learn that the server validates fields itself (the
/// `fieldValidation` parameter), so `create -f`/`apply -f` work without client-side schemas.
enum OpenAPI {
    static func discovery() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for definition in KindCatalog.all {
            let key = definition.groupVersionPath
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)")]
        }
        return ["paths": .object(paths)]
    }

    /// The document for `api/v1`, `apis/apps/v1`, …; nil for anything else.
    static func document(_ groupVersionPath: String) -> JSONValue? {
        let definitions = KindCatalog.all.filter { $0.groupVersionPath == groupVersionPath }
        guard !definitions.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        let fieldValidation: JSONValue = ["name": "fieldValidation", "in": "query", "schema": ["type": "string"],
                                          "description": "Strict, Warn or Ignore"]
        for definition in definitions {
            let gvk: JSONValue = ["group": .string(definition.group), "version": .string(definition.version), "kind": .string(definition.kind)]
            let prefix = "/\(groupVersionPath)"
            let collection = definition.namespaced ? "\(prefix)/namespaces/{namespace}/\(definition.plural)" : "\(prefix)/\(definition.plural)"
            let schemaName = "fair.\(definition.group.isEmpty ? "core" : definition.group).\(definition.version).\(definition.kind)"
            let reference: JSONValue = ["$ref": .string("#/components/schemas/\(schemaName)")]
            let body: JSONValue = ["content": ["application/json": ["schema": reference]]]
            let response: JSONValue = ["200": ["description": "OK", "content": ["application/json": ["schema": reference]]]]
            func operation(_ action: String) -> JSONValue {
                ["x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": .string(action),
                 "parameters": [fieldValidation], "requestBody": body, "responses": response]
            }
            paths[collection] = ["post": operation("post"), "get": ["x-kubernetes-group-version-kind": gvk, "responses": response]]
            paths["\(collection)/{name}"] = ["put": operation("put"), "patch": operation("patch"),
                                             "get": ["x-kubernetes-group-version-kind": gvk, "responses": response]]
            schemas[schemaName] = ["type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                   "x-kubernetes-group-version-kind": [gvk]]
        }
        return ["openapi": "3.0.0", "info": ["title": "fair", "version": "v1.32.0"],
                "paths": .object(paths), "components": ["schemas": .object(schemas)]]
    }
}
