import FairKube
import Hummingbird

/// Why the proxy answered a request itself instead of a pod: a status, and a JSON body
/// `{"error": "…"}` that says what is wrong in terms of the user's Service.
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

    public var status: HTTPResponse.Status {
        switch self {
        case .notAServingPath, .noService, .noSuchPort: return .notFound
        case .unsupportedScheme: return .badRequest
        case .unauthorized: return .unauthorized
        case .noReadyEndpoints: return .serviceUnavailable
        case .badGateway: return .badGateway
        }
    }

    public var description: String {
        switch self {
        case .notAServingPath:
            return "not a serving path: use /serving/{namespace}/{service}[:{port}]/{path}"
        case let .unsupportedScheme(scheme):
            return "the service proxy reaches pods over http only, not \(scheme)"
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
        }
    }

    public var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        let body: JSONValue
        switch self {
        case .unauthorized:
            // What kube-apiserver answers, so kubectl reports it as it would any other 401.
            body = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401]
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
}
