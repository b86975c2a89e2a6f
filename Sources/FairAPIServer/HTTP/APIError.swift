import FairKube
import Foundation

/// An error as the Kubernetes API reports it: a `Status` object with a reason and HTTP code, so
/// kubectl and client libraries print and handle it as they would a real cluster's.
public struct APIError: Error, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    var details: StatusBody.Details?

    init(code: Int, reason: String, message: String, details: StatusBody.Details? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        // kube-apiserver's 404s always carry details (`{}` for a path it does not serve), and
        // clients (kubectl debug among them) read them without checking.
        self.details = details ?? (code == 404 ? StatusBody.Details() : nil)
    }

    /// kube-apiserver's answer for a path it does not serve.
    static let unknownPath = APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    static func notFound(_ definition: KindDefinition, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(definition.plural)\(groupSuffix(definition)) \"\(name)\" not found",
                 details: .init(name: name, group: definition.group, kind: definition.plural))
    }

    static func alreadyExists(_ definition: KindDefinition, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(definition.plural)\(groupSuffix(definition)) \"\(name)\" already exists",
                 details: .init(name: name, group: definition.group, kind: definition.plural))
    }

    static func conflict(_ definition: KindDefinition, _ name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(definition.plural)\(groupSuffix(definition)) \"\(name)\": \(why)",
                 details: .init(name: name, group: definition.group, kind: definition.plural))
    }

    static func invalid(_ definition: KindDefinition, _ name: String, _ causes: [(field: String, message: String)]) -> APIError {
        let summary = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
        let listed = causes.count > 1 ? "[\(summary)]" : summary
        return APIError(code: 422, reason: "Invalid", message: "\(definition.kind) \"\(name)\" is invalid: \(listed)",
                        details: .init(name: name, group: definition.group, kind: definition.kind,
                                       causes: causes.map { .init(reason: Self.causeReason($0.message), message: $0.message, field: $0.field) }))
    }

    /// Invalid request options (`PatchOptions.meta.k8s.io "" is invalid: …`), which kube
    /// validates as an object of the meta.k8s.io group.
    static func invalid(options kind: String, field: String, _ message: String) -> APIError {
        APIError(code: 422, reason: "Invalid", message: "\(kind).meta.k8s.io \"\" is invalid: \(field): \(message)",
                 details: .init(group: "meta.k8s.io", kind: kind,
                                causes: [.init(reason: Self.causeReason(message), message: message, field: field)]))
    }

    /// kube's field error types, read from the message's first words ("Required value: …").
    private static func causeReason(_ message: String) -> String {
        for (prefix, reason) in [("Required value", "FieldValueRequired"), ("Unsupported value", "FieldValueNotSupported"),
                                 ("Forbidden", "FieldValueForbidden"), ("Duplicate value", "FieldValueDuplicate"),
                                 ("Too long", "FieldValueTooLong"), ("Too many", "FieldValueTooMany"),
                                 ("Invalid value", "FieldValueInvalid")] where message.hasPrefix(prefix) {
            return reason
        }
        return "FieldValueInvalid"
    }

    static func badRequest(_ message: String) -> APIError { APIError(code: 400, reason: "BadRequest", message: message) }
    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    static func methodNotAllowed(_ message: String) -> APIError { APIError(code: 405, reason: "MethodNotAllowed", message: message) }
    static func gone(_ message: String) -> APIError { APIError(code: 410, reason: "Expired", message: message) }
    static func tooLarge(_ message: String) -> APIError { APIError(code: 413, reason: "RequestEntityTooLarge", message: message) }

    private static func groupSuffix(_ definition: KindDefinition) -> String {
        definition.group.isEmpty ? "" : ".\(definition.group)"
    }

    var body: StatusBody {
        StatusBody(status: "Failure", message: message, reason: reason, details: details, code: code)
    }
}
