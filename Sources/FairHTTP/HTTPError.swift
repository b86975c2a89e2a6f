internal import CCurl

/// Why a request produced no response. An HTTP error status is not an `HTTPError`: it is a
/// response like any other.
public enum HTTPError: Error, CustomStringConvertible, Equatable {
    /// Connection refused, DNS, TLS, timeout… `code` is libcurl's CURLcode, `message` its text.
    case transport(url: String, code: Int, message: String)
    case tooManyRedirects(url: String)
    case invalidURL(String)
    case bodyTooLarge(url: String, limit: Int)
    /// The response sink threw.
    case sink(url: String, message: String)

    /// True for errors where trying again may well succeed: connection, timeout and
    /// partial-transfer errors. TLS and certificate errors are not retryable.
    public var isRetryable: Bool {
        guard case let .transport(_, code, _) = self else { return false }
        return Self.retryableCodes.contains(code)
    }

    static let retryableCodes: Set<Int> = Set([
        CURLE_COULDNT_RESOLVE_HOST,
        CURLE_COULDNT_CONNECT,
        CURLE_PARTIAL_FILE,
        CURLE_OPERATION_TIMEDOUT,
        CURLE_GOT_NOTHING,
        CURLE_SEND_ERROR,
        CURLE_RECV_ERROR,
        CURLE_HTTP2_STREAM,
    ].map { Int($0.rawValue) })

    public var description: String {
        switch self {
        case let .transport(url, _, message):
            return "\(url): \(message)"
        case let .tooManyRedirects(url):
            return "\(url): too many redirects"
        case let .invalidURL(url):
            return "invalid URL: \(url)"
        case let .bodyTooLarge(url, limit):
            return "\(url): response body larger than \(limit) bytes"
        case let .sink(url, message):
            return "\(url): \(message)"
        }
    }
}
