import FairKube
import Foundation
import Hummingbird

/// `pods/NAME/exec`, `attach` and `portforward`: streams into a pod, which exist only as an
/// upgraded connection. Every request is decided and checked here as kube-apiserver decides and
/// checks it before proxying, so a refusal is a proper `Status` whichever way the client came
/// (kubectl retries a refused WebSocket GET as a SPDY POST and shows that answer).
extension APIServer {
    static let podStreamSubresources: Set<String> = ["exec", "attach", "portforward"]

    func podStream(_ path: ResourcePath, request: Request, query: Query, user: UserInfo) throws -> Response {
        guard let name = path.name, let subresource = path.subresource else { throw APIError.unknownPath }
        guard request.method == .get || request.method == .post else {
            throw APIError.methodNotAllowed("\(request.method) is not supported on pods/\(subresource)")
        }
        // A stream runs code in the pod or reaches into it: `create`, whatever the method, as
        // Kubernetes 1.35 asks of WebSocket GETs too (the method's own verb was checked already).
        let attributes = RequestAttributes(user: user, verb: "create", resource: "pods", subresource: subresource,
                                           namespace: path.namespace ?? "", name: name)
        guard authorizer.authorize(attributes).allowed else { throw APIError.forbidden(attributes) }
        let pods = KindDefinition.pod
        guard let stored = store.get(pods.storageKey, namespace: path.namespace ?? "", name: name) else {
            throw APIError.notFound(pods, name)
        }
        if subresource != "portforward" {
            do {
                _ = try PodStreamTarget(pod: Pod(json: stored.object), podName: name, requestedContainer: query["container"])
                if subresource == "exec", query["command"] == nil { throw PodStreamError.commandRequired }
                if !(query.flag("stdin") || query.flag("stdout") || query.flag("stderr")) { throw PodStreamError.noStreams }
            } catch let error as PodStreamError {
                throw APIError.badRequest(error.description)
            }
        }
        guard Self.asksForUpgrade(request) else { throw APIError.badRequest("Upgrade request required") }
        throw APIError(code: 501, reason: "",
                       message: "fair server does not serve pods/\(subresource) streams yet; the request was allowed and the pod found")
    }

    /// `Connection: Upgrade` with an `Upgrade` header (WebSocket, or SPDY/3.1 from kubectl's fallback).
    static func asksForUpgrade(_ request: Request) -> Bool {
        let connection = request.headers[values: .connection].joined(separator: ",").lowercased()
        return connection.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "upgrade" }
            && request.headers[.upgrade] != nil
    }
}
