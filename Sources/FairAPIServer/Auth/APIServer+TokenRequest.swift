import FairKube
import Foundation
import Hummingbird

/// `POST …/serviceaccounts/NAME/token` (authentication.k8s.io/v1 TokenRequest): `kubectl create
/// token`, and what a node asks for each pod's mounted token. The token is bound to the account
/// and, when asked, to a pod or Secret, which must exist with the uid given.
extension APIServer {
    static let tokenRequestKind = "TokenRequest"

    func tokenRequest(_ path: ResourcePath, name: String, body: JSONValue, user: UserInfo) throws -> Response {
        guard let tokens else {
            throw APIError(code: 404, reason: "NotFound", message: "the server does not issue service-account tokens")
        }
        let namespace = path.namespace ?? "default"
        let invalid = { (field: String, message: String) in
            APIError(code: 422, reason: "Invalid", message: "TokenRequest.authentication.k8s.io \"\(name)\" is invalid: \(field): \(message)",
                     details: .init(name: name, group: "authentication.k8s.io", kind: "TokenRequest",
                                    causes: [.init(reason: "FieldValueInvalid", message: message, field: field)]))
        }
        if let kind = body["kind"]?.stringValue, kind != Self.tokenRequestKind {
            throw APIError.badRequest("the body of a token request must be a TokenRequest, not \(kind)")
        }
        guard let account = store.get(KindDefinition.serviceAccount.storageKey, namespace: namespace, name: name)?.object,
              let accountUID = account.uid else {
            throw APIError.notFound(.serviceAccount, name)
        }
        let expiration = body.value(at: "spec.expirationSeconds")?.intValue ?? 3600
        if expiration < 600 { throw invalid("spec.expirationSeconds", "Invalid value: \(expiration): may not specify a duration less than 10 minutes") }
        if expiration > 1 << 32 { throw invalid("spec.expirationSeconds", "Invalid value: \(expiration): may not specify a duration larger than 2^32 seconds") }
        let requested = RBACRules.strings(body.value(at: "spec.audiences"))
        let audiences = requested.isEmpty ? tokens.apiAudiences : requested
        var binding: ServiceAccountTokens.Binding?
        var nodeName: String?
        if let reference = body.value(at: "spec.boundObjectRef"), reference != .null {
            let kind = reference["kind"]?.stringValue ?? ""
            let boundName = reference["name"]?.stringValue ?? ""
            let definition: KindDefinition
            switch kind {
            case "Pod": definition = .pod
            case "Secret": definition = .secret
            default: throw invalid("spec.boundObjectRef.kind", "Unsupported value: \"\(kind)\": supported values: \"Pod\", \"Secret\"")
            }
            guard let object = store.get(definition.storageKey, namespace: namespace, name: boundName)?.object, let uid = object.uid else {
                throw APIError.notFound(definition, boundName)
            }
            if let expected = reference["uid"]?.stringValue, !expected.isEmpty, expected != uid {
                throw APIError.conflict(definition, boundName, "the UID in the bound object reference (\(expected)) does not match the UID in record. The object might have been deleted and then recreated")
            }
            if kind == "Pod" {
                // A pod's token is for the pod's own account, as kube checks.
                let podAccount = object.value(at: "spec.serviceAccountName")?.stringValue ?? KindDefinition.defaultServiceAccountName
                if podAccount != name {
                    throw APIError.badRequest("cannot issue token for service account \"\(namespace)/\(name)\": the pod \(boundName) runs as \(podAccount)")
                }
                nodeName = object.value(at: "spec.nodeName")?.stringValue
            }
            binding = .init(kind: kind, name: boundName, uid: uid)
        }
        try NodeRestriction.admitTokenRequest(boundTo: binding?.kind, nodeOfPod: nodeName, user: user)
        let issued = try tokens.issue(namespace: namespace, name: name, uid: accountUID, audiences: audiences,
                                      expirationSeconds: expiration, boundTo: binding, nodeName: nodeName)
        var spec: [String: JSONValue] = [
            "audiences": .array(audiences.map { .string($0) }), "expirationSeconds": .int(expiration),
            "boundObjectRef": .null,
        ]
        if let binding {
            spec["boundObjectRef"] = ["kind": .string(binding.kind), "apiVersion": "v1", "name": .string(binding.name), "uid": .string(binding.uid)]
        }
        let answer: JSONValue = [
            "kind": .string(Self.tokenRequestKind), "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(KubeTime.format(Date()))],
            "spec": .object(spec),
            "status": ["token": .string(issued.token), "expirationTimestamp": .string(KubeTime.format(issued.expiration))],
        ]
        return Self.json(answer, status: 201)
    }
}
