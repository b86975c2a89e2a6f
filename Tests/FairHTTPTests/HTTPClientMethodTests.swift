import Foundation
import XCTest

@testable import FairHTTP

final class HTTPClientMethodTests: ServerTestCase {
    func testGetSendsHeadersAndCollectsResponse() throws {
        let response = try send("GET", "/echo?x=1", headers: [
            ("Accept", "application/vnd.oci.image.manifest.v1+json"),
            ("Accept", "application/vnd.oci.image.index.v1+json"),
            ("X-Empty", ""),
        ])
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.url, url("/echo?x=1"))
        XCTAssertEqual(response.headers["content-type"], "application/json")
        XCTAssertEqual(response.headers.values("X-MULTI"), ["one", "two"])
        XCTAssertEqual(response.headers["Content-Length"], String(response.body.count))

        let echo = try Echo(response)
        XCTAssertEqual(echo.method, "GET")
        XCTAssertEqual(echo.path, "/echo?x=1")
        XCTAssertEqual(echo.length, 0)
        XCTAssertEqual(echo.values("Accept"), ["application/vnd.oci.image.manifest.v1+json",
                                              "application/vnd.oci.image.index.v1+json"])
        XCTAssertEqual(echo.values("X-Empty"), [""])
        XCTAssertEqual(echo.values("User-Agent"), ["fair"])
        XCTAssertEqual(echo.values("Content-Length"), [], "a GET has no body")
    }

    func testUserAgentFromConfiguration() throws {
        var configuration = HTTPClient.Configuration()
        configuration.userAgent = "fair/1.2.3"
        let client = HTTPClient(configuration: configuration)
        let echo = try Echo(client.send(HTTPRequest(method: "GET", url: url("/echo"))))
        XCTAssertEqual(echo.values("User-Agent"), ["fair/1.2.3"])
    }

    func testHeadReturnsHeadersWithoutBody() throws {
        let response = try send("HEAD", "/download?size=12345")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Length"], "12345")
        XCTAssertEqual(response.body, [])
        // The connection is still usable afterwards.
        XCTAssertEqual(try send("GET", "/download?size=10").body, (0..<10).map { UInt8($0) })
    }

    func testMethodsWithBytesBody() throws {
        for (index, method) in ["PUT", "POST", "PATCH"].enumerated() {
            let body = testBytes(count: 1000 + index * 77_777, seed: UInt64(index))
            let echo = try Echo(send(method, "/echo", headers: [("Content-Type", "application/octet-stream")],
                                     body: .bytes(body)))
            XCTAssertEqual(echo.method, method)
            XCTAssertEqual(echo.length, body.count)
            XCTAssertEqual(echo.sha256, sha256Hex(body))
            XCTAssertEqual(echo.values("Content-Length"), [String(body.count)])
            XCTAssertEqual(echo.values("Content-Type"), ["application/octet-stream"])
            XCTAssertEqual(echo.values("Expect"), [], "no 100-continue")
            XCTAssertEqual(echo.values("Transfer-Encoding"), [])
        }
    }

    func testBodylessMethodsSendContentLengthZero() throws {
        for method in ["PUT", "POST", "PATCH", "DELETE"] {
            let echo = try Echo(send(method, "/echo"))
            XCTAssertEqual(echo.method, method)
            XCTAssertEqual(echo.length, 0)
            XCTAssertEqual(echo.values("Content-Length"), ["0"], method)
        }
        // An empty bytes body is the same as no body.
        let echo = try Echo(send("PUT", "/echo", body: .bytes([])))
        XCTAssertEqual(echo.values("Content-Length"), ["0"])
    }

    func testDelete() throws {
        let echo = try Echo(send("DELETE", "/echo", headers: [("Authorization", "Bearer t")]))
        XCTAssertEqual(echo.method, "DELETE")
        XCTAssertEqual(echo.values("Authorization"), ["Bearer t"])
    }

    func testLargeUploadHasNoExpectContinue() throws {
        // libcurl would add "Expect: 100-continue" for bodies over 1 MiB.
        let body = testBytes(count: 3 << 20, seed: 9)
        let echo = try Echo(send("PUT", "/echo", body: .bytes(body)))
        XCTAssertEqual(echo.values("Expect"), [])
        XCTAssertEqual(echo.sha256, sha256Hex(body))
    }

    func testNothingLeaksFromOneRequestIntoTheNext() throws {
        _ = try send("PUT", "/echo", headers: [("X-Once", "1")], body: .bytes([1, 2, 3]))
        _ = try send("HEAD", "/echo")
        let echo = try Echo(send("GET", "/echo"))
        XCTAssertEqual(echo.method, "GET")
        XCTAssertEqual(echo.values("X-Once"), [])
        XCTAssertEqual(echo.values("Content-Length"), [])
        XCTAssertEqual(echo.length, 0)
    }
}
