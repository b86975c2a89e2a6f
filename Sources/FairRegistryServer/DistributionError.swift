import Foundation
import Hummingbird

/// An error of the distribution API: an HTTP status, one of the spec's error codes, and a
/// message; answered as `{"errors":[{"code":…,"message":…,"detail":…}]}`.
struct DistributionError: Error, CustomStringConvertible {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var detail: [String: String]?
    /// Extra response headers (e.g. `Range` on a 416, `WWW-Authenticate` on a 401).
    var headers: HTTPFields = [:]

    var description: String { "\(code): \(message)" }

    static func blobUnknown(_ digest: String) -> Self {
        .init(status: .notFound, code: "BLOB_UNKNOWN", message: "blob unknown to registry", detail: ["digest": digest])
    }
    static func blobUploadUnknown(_ id: String) -> Self {
        .init(status: .notFound, code: "BLOB_UPLOAD_UNKNOWN", message: "blob upload unknown to registry", detail: ["session": id])
    }
    static func blobUploadInvalid(_ message: String) -> Self {
        .init(status: .badRequest, code: "BLOB_UPLOAD_INVALID", message: message)
    }
    static func digestInvalid(_ message: String, digest: String? = nil) -> Self {
        .init(status: .badRequest, code: "DIGEST_INVALID", message: message, detail: digest.map { ["digest": $0] })
    }
    static func manifestBlobUnknown(_ digest: String) -> Self {
        .init(status: .badRequest, code: "MANIFEST_BLOB_UNKNOWN", message: "manifest references a blob unknown to this repository",
              detail: ["digest": digest])
    }
    static func manifestInvalid(_ message: String) -> Self {
        .init(status: .badRequest, code: "MANIFEST_INVALID", message: message)
    }
    static func manifestUnknown(_ reference: String) -> Self {
        .init(status: .notFound, code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: ["reference": reference])
    }
    static func nameInvalid(_ name: String) -> Self {
        .init(status: .badRequest, code: "NAME_INVALID", message: "invalid repository name", detail: ["name": name])
    }
    static func nameUnknown(_ name: String) -> Self {
        .init(status: .notFound, code: "NAME_UNKNOWN", message: "repository name not known to registry", detail: ["name": name])
    }
    static func tagInvalid(_ tag: String) -> Self {
        .init(status: .badRequest, code: "TAG_INVALID", message: "invalid tag", detail: ["tag": tag])
    }
    static func sizeInvalid(_ message: String) -> Self {
        .init(status: .contentTooLarge, code: "SIZE_INVALID", message: message)
    }
    static func unsupported(_ message: String, status: HTTPResponse.Status = .methodNotAllowed) -> Self {
        .init(status: status, code: "UNSUPPORTED", message: message)
    }
    static func unauthorized() -> Self {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Basic realm="fair""#
        return .init(status: .unauthorized, code: "UNAUTHORIZED", message: "authentication required", headers: headers)
    }
    /// 401 with the challenge docker, skopeo and podman follow: get a token for these scopes
    /// from the realm (with the user's credentials, or anonymously), then retry with it.
    static func challenge(realm: String, scopes: [RegistryScope], message: String = "authentication required") -> Self {
        var headers = HTTPFields()
        var value = #"Bearer realm="\#(realm)",service="fair-registry""#
        if !scopes.isEmpty { value += #",scope="\#(scopes.map(\.description).joined(separator: " "))""# }
        headers[.wwwAuthenticate] = value
        return .init(status: .unauthorized, code: "UNAUTHORIZED", message: message, headers: headers)
    }
    /// 403: the credential is valid but does not cover this repository or action.
    static func denied(_ scopes: [RegistryScope]) -> Self {
        .init(status: .forbidden, code: "DENIED", message: "requested access to the resource is denied",
              detail: ["required": scopes.map(\.description).joined(separator: " ")])
    }
    static func rangeInvalid(_ message: String, location: String, size: Int64) -> Self {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.range] = Headers.uploadRange(size)
        return .init(status: .rangeNotSatisfiable, code: "BLOB_UPLOAD_INVALID", message: message, headers: headers)
    }

    var response: Response {
        struct Body: Encodable {
            struct Entry: Encodable {
                var code: String
                var message: String
                var detail: [String: String]?
            }
            var errors: [Entry]
        }
        let body = Body(errors: [.init(code: code, message: message, detail: detail)])
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Responses.json(body, status: status, headers: fields)
    }
}

/// Header names of the distribution API that HTTPTypes does not define.
enum Headers {
    typealias Name = HTTPFields.Element.Name
    static let contentDigest = Name("Docker-Content-Digest")!
    static let uploadUUID = Name("Docker-Upload-UUID")!
    static let apiVersion = Name("Docker-Distribution-API-Version")!
    static let link = Name("Link")!

    /// The `Range` of an upload session holding `size` bytes: `0-<last byte>` (`0-0` when empty).
    static func uploadRange(_ size: Int64) -> String {
        "0-\(max(size - 1, 0))"
    }
}

enum Responses {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json; charset=utf-8" }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentLength] = "0"
        return Response(status: status, headers: fields)
    }
}
