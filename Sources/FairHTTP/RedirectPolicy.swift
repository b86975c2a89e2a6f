/// Which responses are redirects, and what request follows one.
enum RedirectPolicy {
    static let statuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Headers that are only sent to the scheme, host and port of the original request.
    static let credentialHeaders = ["Authorization", "Cookie"]

    /// Headers that describe a request body, dropped when a redirect turns the request into a GET.
    static let bodyHeaders = ["Content-Length", "Content-Type", "Content-Encoding", "Content-MD5",
                              "Transfer-Encoding", "Digest"]

    /// The request to send after `response`, or nil when `response` is not a redirect
    /// (or is one without a Location).
    static func nextRequest(after response: HTTPResponse, to request: HTTPRequest) throws -> HTTPRequest? {
        guard statuses.contains(response.status),
              let location = response.headers["Location"], !location.isEmpty
        else { return nil }
        var next = request
        next.url = try CurlURL.resolve(location, against: request.url)
        // 303 means "see other": fetch it. 301 and 302 turn POST into GET, as every client does.
        // 307 and 308 repeat the method and body.
        let becomesGet = (response.status == 303 && request.method != "HEAD" && request.method != "GET")
            || ((response.status == 301 || response.status == 302) && request.method == "POST")
        if becomesGet {
            next.method = "GET"
            next.body = .empty
            for name in bodyHeaders { next.headers.remove(name) }
        }
        return next
    }
}
