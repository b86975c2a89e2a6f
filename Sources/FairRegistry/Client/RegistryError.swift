import Foundation

/// Registry failures, each worded so the user knows what to do next.
public enum RegistryError: Error, CustomStringConvertible {
    case invalidReference(String, String)
    case config(path: String, reason: String)
    case credentialHelper(helper: String, reason: String)
    case unauthorized(host: String, detail: String)
    case wrongCredentials(host: String)
    case denied(repository: String, action: String, detail: String)
    case notFound(what: String)
    /// Any other error response, decoded from the registry's `{"errors":[…]}` body when it has one.
    case response(status: Int, method: String, url: String, codes: [String], message: String)
    case unreachable(host: String, detail: String)
    case digestMismatch(what: String, expected: String, actual: String)
    case unsupported(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case let .invalidReference(text, reason):
            return "invalid image reference \"\(text)\": \(reason)"
        case let .config(path, reason):
            return "\(path): \(reason)"
        case let .credentialHelper(helper, reason):
            return "credential helper \(helper) failed: \(reason)"
        case let .unauthorized(host, detail):
            return "unauthorized: \(host) needs credentials\(detail.isEmpty ? "" : " (\(detail))"); run `fair login \(host)`"
        case let .wrongCredentials(host):
            return "unauthorized: wrong username or password for \(host); run `fair login \(host)` again"
        case let .denied(repository, action, detail):
            let host = repository.split(separator: "/").first.map(String.init) ?? repository
            return "denied: no \(action) access to \(repository)\(detail.isEmpty ? "" : " (\(detail))"); "
                + "log in with a credential that may \(action) there (`fair login \(host)`; for a fair server's registry, "
                + "the kubeconfig of that cluster in KUBECONFIG is enough)"
        case let .notFound(what):
            return "not found: \(what)"
        case let .response(status, method, url, codes, message):
            let code = codes.isEmpty ? "" : " \(codes.joined(separator: ","))"
            return "registry answered \(status)\(code) to \(method) \(url)\(message.isEmpty ? "" : ": \(message)")"
        case let .unreachable(host, detail):
            return "cannot reach registry \(host): \(detail)"
        case let .digestMismatch(what, expected, actual):
            return "\(what): content does not match its digest (expected \(expected), got \(actual)); refusing it"
        case let .unsupported(message):
            return message
        case let .protocolViolation(message):
            return "registry protocol error: \(message)"
        }
    }
}

/// The distribution-spec error body: `{"errors":[{"code":…,"message":…,"detail":…}]}`.
struct RegistryErrorBody: Decodable {
    struct Entry: Decodable {
        var code: String?
        var message: String?
    }
    var errors: [Entry]?

    static func decode(_ bytes: [UInt8]) -> (codes: [String], message: String) {
        guard let body = try? JSONDecoder().decode(RegistryErrorBody.self, from: Data(bytes)), let errors = body.errors else {
            let text = String(decoding: bytes.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return ([], text.contains("<html") ? "" : text)
        }
        return (errors.compactMap(\.code), errors.compactMap(\.message).joined(separator: "; "))
    }
}
