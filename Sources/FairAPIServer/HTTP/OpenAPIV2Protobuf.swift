import FairKube
import FairKubeProto
import Foundation
import SwiftProtobuf

/// `/openapi/v2` as kube-apiserver serves it to kubectl: a gnostic `openapi.v2.Document` in
/// protobuf. kubectl asks for nothing else there, and validates against it what the server
/// cannot (the items of a `kind: List`). Made once from the same schemas as the JSON document.
enum OpenAPIV2Protobuf {
    static let mediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    /// What kube-apiserver names the body it answers with.
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    static func isAsked(_ accept: String) -> Bool {
        accept.contains("application/com.github.proto-openapi.spec.v2")
    }

    static let encoded: [UInt8] = {
        // The document is made from the server's own schemas; one that does not encode is a
        // defect of the build, found by the first test that asks.
        (try? document(OpenAPI.version2).serializedBytes()) ?? []
    }()

    static func document(_ json: JSONValue) -> Openapi_V2_Document {
        var document = Openapi_V2_Document()
        document.swagger = json["swagger"]?.stringValue ?? "2.0"
        var info = Openapi_V2_Info()
        info.title = json.value(at: "info.title")?.stringValue ?? ""
        info.version = json.value(at: "info.version")?.stringValue ?? ""
        document.info = info
        document.paths = Openapi_V2_Paths()
        var definitions = Openapi_V2_Definitions()
        definitions.additionalProperties = named(json["definitions"])
        document.definitions = definitions
        return document
    }

    /// Members of an object as named schemas, in key order (the protobuf is a list).
    private static func named(_ members: JSONValue?) -> [Openapi_V2_NamedSchema] {
        (members?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { name, value in
            var named = Openapi_V2_NamedSchema()
            named.name = name
            named.value = schema(value)
            return named
        }
    }

    static func schema(_ json: JSONValue) -> Openapi_V2_Schema {
        var schema = Openapi_V2_Schema()
        guard let members = json.objectValue else { return schema }
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "$ref": schema.ref = value.stringValue ?? ""
            case "format": schema.format = value.stringValue ?? ""
            case "title": schema.title = value.stringValue ?? ""
            case "description": schema.description_p = value.stringValue ?? ""
            case "default": schema.default = any(value)
            case "pattern": schema.pattern = value.stringValue ?? ""
            case "required": schema.required = (value.arrayValue ?? []).compactMap(\.stringValue)
            case "enum": schema.enum = (value.arrayValue ?? []).map(any)
            case "type":
                var type = Openapi_V2_TypeItem()
                type.value = value.stringValue.map { [$0] } ?? (value.arrayValue ?? []).compactMap(\.stringValue)
                schema.type = type
            case "items":
                var items = Openapi_V2_ItemsItem()
                items.schema = value.arrayValue?.map(Self.schema) ?? [Self.schema(value)]
                schema.items = items
            case "allOf": schema.allOf = (value.arrayValue ?? []).map(Self.schema)
            case "properties":
                var properties = Openapi_V2_Properties()
                properties.additionalProperties = named(value)
                schema.properties = properties
            case "additionalProperties":
                var additional = Openapi_V2_AdditionalPropertiesItem()
                if case let .bool(flag) = value { additional.boolean = flag } else { additional.schema = Self.schema(value) }
                schema.additionalProperties = additional
            case "readOnly": schema.readOnly = value.boolValue ?? false
            case let name where name.hasPrefix("x-"):
                var extensionValue = Openapi_V2_NamedAny()
                extensionValue.name = name
                extensionValue.value = any(value)
                schema.vendorExtension.append(extensionValue)
            default:
                break
            }
        }
        return schema
    }

    /// A value as gnostic carries one: its YAML text (JSON is YAML).
    private static func any(_ json: JSONValue) -> Openapi_V2_Any {
        var value = Openapi_V2_Any()
        value.yaml = String(decoding: JSONCoding.encode(json), as: UTF8.self)
        return value
    }
}
