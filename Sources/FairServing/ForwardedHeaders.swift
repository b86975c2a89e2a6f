import HTTPTypes
import NIOCore
import NIOHTTP1

/// Which headers cross the proxy. Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection,
/// not the message, so they stay on their side, as do any the Connection header names. The pod
/// learns who asked through X-Forwarded-For, -Host and -Proto.
enum ForwardedHeaders {
    static let hopByHop: Set<HTTPField.Name> = [
        .connection, .te, .trailer, .transferEncoding, .upgrade, .proxyAuthenticate, .proxyAuthorization,
        HTTPField.Name("Keep-Alive")!, HTTPField.Name("Proxy-Connection")!,
    ]
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// The headers of the request to the pod, without Host (set per attempt, to the pod's
    /// address) and body framing (set once the body is read). `dropAuthorization` keeps the
    /// API server's bearer token from reaching a pod.
    static func request(_ head: HTTPRequest, client: SocketAddress?, dropAuthorization: Bool) -> HTTPHeaders {
        let fields = head.headerFields
        let listed = connectionListed(fields)
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 4)
        var forwardedFor: String?
        for field in fields {
            let name = field.name
            if hopByHop.contains(name) || name == .contentLength || name.canonicalName == "host" { continue }
            // The proxy reads the body before the pod sees the request: there is nothing to expect.
            if name == .expect { continue }
            if name == .authorization && dropAuthorization { continue }
            if let listed, listed.contains(name.canonicalName) { continue }
            if name == Self.forwardedFor {
                forwardedFor = forwardedFor.map { "\($0), \(field.value)" } ?? field.value
                continue
            }
            if name == Self.forwardedHost || name == Self.forwardedProto { continue }
            headers.add(name: name.rawName, value: field.value)
        }
        if let ip = client?.ipAddress {
            headers.add(name: "X-Forwarded-For", value: forwardedFor.map { "\($0), \(ip)" } ?? ip)
        } else if let forwardedFor {
            headers.add(name: "X-Forwarded-For", value: forwardedFor)
        }
        if let authority = head.authority { headers.add(name: "X-Forwarded-Host", value: authority) }
        headers.add(name: "X-Forwarded-Proto", value: head.scheme ?? "http")
        return headers
    }

    /// The pod's response headers as the client gets them. Content-Length passes (the body is
    /// relayed byte for byte); Transfer-Encoding does not, the client connection frames its own.
    static func response(_ headers: HTTPHeaders) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        var listed: Set<String>?
        if headers.contains(name: "connection") {
            listed = Set(headers[canonicalForm: "connection"].map { $0.lowercased() })
        }
        for (name, value) in headers {
            guard let fieldName = HTTPField.Name(name), !hopByHop.contains(fieldName) else { continue }
            if let listed, listed.contains(fieldName.canonicalName) { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }

    /// Header names the Connection header lists besides close and keep-alive; nil (the usual
    /// case) when there are none, so nothing is allocated.
    private static func connectionListed(_ fields: HTTPFields) -> Set<String>? {
        guard let value = fields[.connection] else { return nil }
        var names = Set<String>()
        for token in value.split(separator: ",") {
            let name = token.trimmingASCIISpaces().lowercased()
            if name != "close" && name != "keep-alive" && !name.isEmpty { names.insert(name) }
        }
        return names.isEmpty ? nil : names
    }
}

private extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var slice = self
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
