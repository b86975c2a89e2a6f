import FairKube

/// An error as the Kubernetes API reports it: a `Status` object with a reason and HTTP code, so
/// kubectl and client libraries print and handle it as they would a real cluster's.
public struct APIError: Error, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSONValue?

    public init(code: Int, reason: String, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public static func notFound(_ definition: ResourceDefinition, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(definition.plural)\(groupSuffix(definition)) \"\(name)\" not found",
                 details: ["name": .string(name), "group": .string(definition.group), "kind": .string(definition.plural)])
    }

    public static func alreadyExists(_ definition: ResourceDefinition, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(definition.plural)\(groupSuffix(definition)) \"\(name)\" already exists",
                 details: ["name": .string(name), "group": .string(definition.group), "kind": .string(definition.plural)])
    }

    public static func conflict(_ definition: ResourceDefinition, _ name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(definition.plural)\(groupSuffix(definition)) \"\(name)\": \(why)",
                 details: ["name": .string(name), "group": .string(definition.group), "kind": .string(definition.plural)])
    }

    public static func invalid(_ definition: ResourceDefinition, _ name: String, _ causes: [(field: String, message: String)]) -> APIError {
        let summary = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
        return APIError(code: 422, reason: "Invalid", message: "\(definition.kind) \"\(name)\" is invalid: \(summary)",
                        details: ["name": .string(name), "group": .string(definition.group), "kind": .string(definition.kind),
                                  "causes": .array(causes.map { ["reason": "FieldValueInvalid", "message": .string($0.message), "field": .string($0.field)] })])
    }

    public static func badRequest(_ message: String) -> APIError { APIError(code: 400, reason: "BadRequest", message: message) }
    public static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    public static func methodNotAllowed(_ message: String) -> APIError { APIError(code: 405, reason: "MethodNotAllowed", message: message) }
    public static func gone(_ message: String) -> APIError { APIError(code: 410, reason: "Expired", message: message) }

    private static func groupSuffix(_ definition: ResourceDefinition) -> String {
        definition.group.isEmpty ? "" : ".\(definition.group)"
    }

    public var status: JSONValue {
        var status: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                 "message": .string(message), "reason": .string(reason), "code": .int(Int64(code))]
        if let details { status["details"] = details }
        return status
    }
}
