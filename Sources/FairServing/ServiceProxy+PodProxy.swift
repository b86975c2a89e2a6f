import FairKube
import Hummingbird
import NIOCore

extension ServiceProxy {
    /// The API port's pod proxy, kube-apiserver's `pods/proxy` subresource:
    /// `/api/v1/namespaces/{namespace}/pods/[http:]{name}[:{port}]/proxy/{path}`; nil for every
    /// other path. Request and response bodies stream through both ways, at the slower side's pace.
    ///
    /// `authorize` decides first, as the API server decides any request: nil lets it through,
    /// otherwise its answer (kube's 401 or 403) is the response. Only then is the pod looked up,
    /// with `pod` (the object as stored, nil when there is none), so a caller who may not proxy
    /// learns nothing of which pods exist. The bearer token stays here: it is no business of a pod.
    public func respondToPodProxy(_ request: Request, clientAddress: SocketAddress?,
                                  authorize: (PodProxyTarget) async -> Response?,
                                  pod: (PodProxyTarget) -> JSONValue?) async throws -> Response? {
        let target: PodProxyTarget
        do {
            guard let parsed = try PodProxyTarget.kubernetes(request.head.path ?? "/") else { return nil }
            target = parsed
        } catch {
            return error.response
        }
        if let refusal = await authorize(target) { return refusal }
        let backend: Backend
        do {
            backend = try target.backend(in: pod(target))
        } catch {
            return error.response
        }
        return try await forwarder.forward(request, to: target, at: backend, client: clientAddress, dropAuthorization: true)
    }
}
