import FairKube
import Foundation
import Hummingbird

/// The proxy subresources are answered beside the API (the service proxy forwards them), but
/// decided by it, as kube-apiserver decides them: the credential (token or client certificate) says who asks, and RBAC
/// whether they may, on resource `pods` (or `services`), subresource `proxy`, with the verb the
/// HTTP method maps to.
extension APIServer {
    /// nil when the request may be proxied to `name`; otherwise the response to refuse it with:
    /// kube's 401 for no valid credential, its 403 for a user RBAC does not allow.
    public func refusal<Context: RequestContext>(toProxy request: Request, context: Context, resource: String,
                                                 namespace: String, name: String) async -> Response? {
        guard let user = await authenticator.identify(request.headers, certificate: {
            await (context as? ClientCertificateRequestContext)?.clientCertificateSubject()
        }) else { return Self.status(APIError.unauthorized.body) }
        let attributes = RequestAttributes(user: user, verb: Self.proxyVerb(request.method), resource: resource,
                                           subresource: "proxy", namespace: namespace, name: name)
        guard authorizer.authorize(attributes).allowed else { return Self.status(APIError.forbidden(attributes).body) }
        return nil
    }

    /// The pod a `pods/proxy` request names, as stored; nil when there is none.
    public func proxiedPod(namespace: String, name: String) -> JSONValue? {
        store.get(KindDefinition.pod.storageKey, namespace: namespace, name: name)?.object
    }

    /// kube's request info: a proxy request's verb is its method's, named as RBAC names verbs.
    static func proxyVerb(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head: return "get"
        case .post: return "create"
        case .put: return "update"
        case .patch: return "patch"
        case .delete: return "delete"
        default: return method.rawValue.lowercased()
        }
    }
}
