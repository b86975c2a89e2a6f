import FairKube
import Hummingbird

/// Why the proxy answered a request itself instead of a pod: a status, and a JSON body
/// `{"error": "…"}` that says what is wrong in terms of the user's Service. On the API port's
/// pod proxy the body is a Kubernetes `Status`, as kube-apiserver answers there.
public enum ProxyError: Error, Equatable, CustomStringConvertible {
    case notAServingPath
    case unsupportedScheme(String)
    /// The API port's proxy path without the server's bearer token.
    case unauthorized
    case noService(namespace: String, name: String)
    case noSuchPort(namespace: String, name: String, port: String, available: [String])
    case noReadyEndpoints(namespace: String, name: String)
    /// Every attempt failed before a response began, or the pod's response was not HTTP.
    case badGateway(namespace: String, name: String, detail: String)
    case podNotFound(namespace: String, name: String)
    /// The pod is not running yet (or any more): it has no IP address to forward to.
    case podWithoutAddress(namespace: String, name: String, phase: String)
    case noSuchPodPort(namespace: String, name: String, port: String)
    /// Connecting to the pod failed, or it closed the connection without answering.
    case podUnreachable(namespace: String, name: String, detail: String)

    public var status: HTTPResponse.Status {
        switch self {
        case .notAServingPath, .noService, .noSuchPort, .podNotFound: return .notFound
        case .unsupportedScheme, .noSuchPodPort: return .badRequest
        case .unauthorized: return .unauthorized
        case .noReadyEndpoints, .podWithoutAddress, .podUnreachable: return .serviceUnavailable
        case .badGateway: return .badGateway
        }
    }

    public var description: String {
        switch self {
        case .notAServingPath:
            return "not a serving path: use /serving/{namespace}/{service}[:{port}]/{path}"
        case let .unsupportedScheme(scheme):
            return "the proxy reaches pods over http only, not \(scheme)"
        case .unauthorized:
            return "Unauthorized"
        case let .noService(namespace, name):
            return "no service \(namespace)/\(name)"
        case let .noSuchPort(namespace, name, port, available):
            let ports = available.isEmpty ? "it has no TCP ports" : "its ports: \(available.joined(separator: ", "))"
            return "service \(namespace)/\(name) has no port \(port) (\(ports))"
        case let .noReadyEndpoints(namespace, name):
            return "service \(namespace)/\(name) has no ready endpoints"
        case let .badGateway(namespace, name, detail):
            return "service \(namespace)/\(name): \(detail)"
        case let .podNotFound(_, name):
            return "pods \"\(name)\" not found"
        case let .podWithoutAddress(namespace, name, phase):
            return "pod \(name) in namespace \(namespace) has no IP address to proxy to (it is \(phase))"
        case let .noSuchPodPort(namespace, name, port):
            return "pod \(name) in namespace \(namespace) has no port \(port)"
        case let .podUnreachable(_, _, detail):
            // kube-apiserver's words for the same failure.
            return "error trying to reach service: \(detail)"
        }
    }

    public var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        let body: JSONValue
        switch self {
        case .unauthorized:
            // What kube-apiserver answers, so kubectl reports it as it would any other 401.
            body = statusBody("Unauthorized", code: 401)
        case let .podNotFound(_, name):
            body = statusBody("NotFound", code: 404, details: ["name": .string(name), "kind": "pods"])
        case .noSuchPodPort:
            body = statusBody("BadRequest", code: 400)
        case .podWithoutAddress, .podUnreachable:
            body = statusBody("ServiceUnavailable", code: 503)
        case .noReadyEndpoints:
            // Pods are starting or being replaced: worth asking again shortly.
            headers[.retryAfter] = "1"
            body = ["error": .string(description)]
        default:
            body = ["error": .string(description)]
        }
        var buffer = ByteBuffer(bytes: JSONCoding.encodeBytes(body))
        buffer.writeInteger(UInt8(ascii: "\n"))
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// A Kubernetes `Status` saying this error, for clients of the API port.
    private func statusBody(_ reason: String, code: Int, details: JSONValue? = nil) -> JSONValue {
        var body: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                               "message": .string(description), "reason": .string(reason), "code": .int(Int64(code))]
        if let details { body["details"] = details }
        return body
    }
}
