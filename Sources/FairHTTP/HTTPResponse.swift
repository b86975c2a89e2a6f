/// The final response to a request, after redirects.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The URL that produced this response, after redirects.
    public var url: String
    /// The body when no sink was given (capped, see send); empty when it was streamed to a sink.
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, url: String, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.url = url
        self.body = body
    }

    /// 200...299.
    public var isSuccess: Bool { (200...299).contains(status) }
}
