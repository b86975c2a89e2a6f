import FairKube
import Foundation

/// Server-side printing (`meta.k8s.io/v1` `Table`): kubectl asks for it with
/// `Accept: application/json;as=Table;…` and prints the columns the server chose, so
/// `kubectl get pods` shows READY, STATUS, RESTARTS and AGE as against any cluster. The
/// columns are the kind's (`KindDefinition.columns`).
enum TablePrinter {
    static func wantsTable(_ accept: String) -> Bool { accept.contains("as=Table") }

    static func table(_ definition: KindDefinition, objects: [JSONValue], resourceVersion: String?, continue token: String? = nil,
                      includeColumns: Bool = true) -> JSONValue {
        let columns = definition.columns
        let now = Date()
        var metadata: JSONValue = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let token { metadata["continue"] = .string(token) }
        let rows: [JSONValue] = objects.map { object in
            ["cells": .array(columns.map { $0.value(object, now) }),
             "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]]
        }
        var table: JSONValue = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "rows": .array(rows)]
        table["columnDefinitions"] = includeColumns ? .array(columns.map { column in
            ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
             "description": .string(column.name), "priority": .int(Int64(column.priority))]
        }) : .array([])
        return table
    }
}
