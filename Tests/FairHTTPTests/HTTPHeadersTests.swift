import XCTest

@testable import FairHTTP

final class HTTPHeadersTests: XCTestCase {
    func testLookupIsCaseInsensitiveAndKeepsOrder() {
        var headers = HTTPHeaders([("Accept", "a"), ("Content-Type", "text/plain"), ("accept", "b")])
        XCTAssertEqual(headers["ACCEPT"], "a")
        XCTAssertEqual(headers.values("accept"), ["a", "b"])
        XCTAssertEqual(headers["content-type"], "text/plain")
        XCTAssertNil(headers["Missing"])
        XCTAssertTrue(headers.contains("CONTENT-TYPE"))

        headers.add("X-Extra", "1")
        XCTAssertEqual(headers.map(\.name), ["Accept", "Content-Type", "accept", "X-Extra"])

        headers.set("ACCEPT", "c")
        XCTAssertEqual(headers.values("Accept"), ["c"])
        XCTAssertEqual(headers.map(\.name), ["ACCEPT", "Content-Type", "X-Extra"], "set replaces in place")

        headers.set("New", "n")
        XCTAssertEqual(headers.map(\.name).last, "New")

        headers.remove("content-TYPE")
        XCTAssertNil(headers["Content-Type"])
        XCTAssertEqual(headers.count, 3)
    }

    func testNamesMatchOnlyWholeNames() {
        XCTAssertFalse(HTTPHeaders.namesMatch("Accept", "Accept-Encoding"))
        XCTAssertTrue(HTTPHeaders.namesMatch("www-authenticate", "WWW-Authenticate"))
        XCTAssertFalse(HTTPHeaders.namesMatch("a", "b"))
    }

    func testRetryableErrors() {
        func transport(_ code: Int) -> HTTPError { .transport(url: "u", code: code, message: "m") }
        for code in [6, 7, 18, 28, 52, 55, 56] {
            XCTAssertTrue(transport(code).isRetryable, "CURLcode \(code)")
        }
        // SSL connect error, peer certificate, CA cert problems: not worth repeating.
        for code in [35, 51, 58, 60, 77, 3, 1] {
            XCTAssertFalse(transport(code).isRetryable, "CURLcode \(code)")
        }
        XCTAssertFalse(HTTPError.tooManyRedirects(url: "u").isRetryable)
        XCTAssertFalse(HTTPError.invalidURL("u").isRetryable)
        XCTAssertFalse(HTTPError.bodyTooLarge(url: "u", limit: 1).isRetryable)
        XCTAssertFalse(HTTPError.sink(url: "u", message: "m").isRetryable)
    }

    func testErrorDescriptionsNameTheURL() {
        XCTAssertEqual(HTTPError.transport(url: "https://r/v2/", code: 7, message: "Couldn't connect to server").description,
                       "https://r/v2/: Couldn't connect to server")
        XCTAssertEqual(HTTPError.bodyTooLarge(url: "https://r/x", limit: 10).description,
                       "https://r/x: response body larger than 10 bytes")
        XCTAssertEqual(HTTPError.invalidURL("nope").description, "invalid URL: nope")
    }

    func testRedirectResolution() throws {
        XCTAssertEqual(try CurlURL.resolve("../echo?via=relative", against: "http://h:1/dir/redirect-relative"),
                       "http://h:1/echo?via=relative")
        XCTAssertEqual(try CurlURL.resolve("/v2/x", against: "https://h/a/b?c"), "https://h/v2/x")
        XCTAssertEqual(try CurlURL.resolve("https://s3.example/blob?sig=1", against: "https://h/a"),
                       "https://s3.example/blob?sig=1")
        XCTAssertEqual(try CurlURL.resolve("//other:8080/p", against: "http://h/a"), "http://other:8080/p")
        XCTAssertThrowsError(try CurlURL.resolve("file:///etc/passwd", against: "http://h/a"))
        XCTAssertEqual(try CurlURL.origin(of: "HTTPS://Registry.Example/v2/"),
                       try CurlURL.origin(of: "https://registry.example:443/other"))
        XCTAssertNotEqual(try CurlURL.origin(of: "http://h/"), try CurlURL.origin(of: "https://h/"))
        XCTAssertNotEqual(try CurlURL.origin(of: "http://h/"), try CurlURL.origin(of: "http://h:8080/"))
        XCTAssertThrowsError(try CurlURL.origin(of: "not a url"))
    }
}
