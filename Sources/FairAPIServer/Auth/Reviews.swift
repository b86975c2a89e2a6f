import FairKube
import Foundation

/// The answers to the kinds that are asked, never stored: who am I, may I, may they, whose token
/// is this, what may I do. Each takes the request's body and its authenticated user, and returns
/// the object with its `status` filled, as kube-apiserver's registries for them do.
struct Reviews: Sendable {
    let authorizer: RBACAuthorizer
    let tokens: ServiceAccountTokens?

    func answer(_ definition: KindDefinition, body: JSONValue, user: UserInfo) throws -> JSONValue {
        var object = body
        object["apiVersion"] = .string(definition.apiVersion)
        object["kind"] = .string(definition.kind)
        if object["metadata"] == nil { object["metadata"] = ["creationTimestamp": .null] }
        switch definition {
        case .selfSubjectReview:
            object["status"] = ["userInfo": user.json]
        case .selfSubjectAccessReview:
            object["status"] = try access(object, of: user, definition)
        case .subjectAccessReview:
            object["status"] = try access(object, of: try Self.subject(of: object, definition), definition)
        case .selfSubjectRulesReview:
            guard let namespace = object.value(at: "spec.namespace")?.stringValue, !namespace.isEmpty else {
                throw APIError.invalid(definition, "", [(field: "spec.namespace", message: "Required value")])
            }
            object["status"] = rules(of: user, namespace: namespace)
        case .tokenReview:
            object["status"] = try tokenStatus(object, definition)
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        return object
    }

    private func access(_ review: JSONValue, of user: UserInfo, _ definition: KindDefinition) throws -> JSONValue {
        let request: RequestAttributes
        if let attributes = review.value(at: "spec.resourceAttributes") {
            request = RequestAttributes(
                user: user, verb: attributes["verb"]?.stringValue ?? "", resource: attributes["resource"]?.stringValue ?? "",
                subresource: attributes["subresource"]?.stringValue ?? "", apiGroup: attributes["group"]?.stringValue ?? "",
                namespace: attributes["namespace"]?.stringValue ?? "", name: attributes["name"]?.stringValue ?? "")
        } else if let attributes = review.value(at: "spec.nonResourceAttributes") {
            request = RequestAttributes(user: user, verb: attributes["verb"]?.stringValue ?? "", nonResourcePath: attributes["path"]?.stringValue ?? "")
        } else {
            throw APIError.invalid(definition, "", [(field: "spec.resourceAttributes", message: "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        }
        let decision = authorizer.authorize(request)
        var status: [String: JSONValue] = ["allowed": .bool(decision.allowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return .object(status)
    }

    /// The user a SubjectAccessReview asks about: `spec.user`, `spec.groups`, `spec.uid`, `spec.extra`.
    private static func subject(of review: JSONValue, _ definition: KindDefinition) throws -> UserInfo {
        let name = review.value(at: "spec.user")?.stringValue ?? ""
        let groups = RBACRules.strings(review.value(at: "spec.groups"))
        guard !name.isEmpty || !groups.isEmpty else {
            throw APIError.invalid(definition, "", [(field: "spec.user", message: "Invalid value: \"\": at least one of user or group must be specified")])
        }
        var extra: [String: [String]] = [:]
        for (key, values) in review.value(at: "spec.extra")?.objectValue ?? [:] { extra[key] = RBACRules.strings(values) }
        return UserInfo(name: name, uid: review.value(at: "spec.uid")?.stringValue ?? "", groups: groups, extra: extra)
    }

    private func rules(of user: UserInfo, namespace: String) -> JSONValue {
        let rules = authorizer.rules(of: user, namespace: namespace)
        let resourceRules = rules.filter { $0.nonResourceURLs.isEmpty }.map { rule -> JSONValue in
            var json = rule.json
            if json["apiGroups"] == nil { json["apiGroups"] = [] }
            if json["resources"] == nil { json["resources"] = [] }
            return json
        }
        let nonResourceRules = rules.filter { !$0.nonResourceURLs.isEmpty }.map { rule -> JSONValue in
            ["verbs": .array(rule.verbs.map { .string($0) }), "nonResourceURLs": .array(rule.nonResourceURLs.map { .string($0) })]
        }
        return ["resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules), "incomplete": false]
    }

    private func tokenStatus(_ review: JSONValue, _ definition: KindDefinition) throws -> JSONValue {
        guard let token = review.value(at: "spec.token")?.stringValue, !token.isEmpty else {
            throw APIError.invalid(definition, "", [(field: "spec.token", message: "Required value")])
        }
        let requested = RBACRules.strings(review.value(at: "spec.audiences"))
        let audiences = requested.isEmpty ? (tokens?.apiAudiences ?? []) : requested
        guard let user = tokens?.user(for: token, audiences: audiences) else {
            return ["authenticated": false, "user": [:], "error": "invalid bearer token"]
        }
        let accepted = requested.isEmpty ? [] : audiences
        return ["authenticated": true, "user": user.json, "audiences": .array(accepted.map { .string($0) })]
    }
}
