import Foundation
import XCTest

@testable import FairHTTP

final class HTTPClientRedirectTests: ServerTestCase {
    private func redirect(_ status: Int, to target: String) -> String {
        let encoded = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        return "/redirect?status=\(status)&to=\(encoded)"
    }

    func testRelativeRedirect() throws {
        let response = try send("GET", "/dir/redirect-relative")
        XCTAssertEqual(response.url, url("/echo?via=relative"))
        let echo = try Echo(response)
        XCTAssertEqual(echo.path, "/echo?via=relative")
        XCTAssertEqual(echo.method, "GET")
    }

    func testEveryRedirectStatusIsFollowedForGetAndHead() throws {
        for status in [301, 302, 303, 307, 308] {
            let get = try send("GET", redirect(status, to: "/echo?s=\(status)"))
            XCTAssertEqual(get.url, url("/echo?s=\(status)"))
            XCTAssertEqual(try Echo(get).method, "GET")

            let head = try send("HEAD", redirect(status, to: "/download?size=77"))
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.headers["Content-Length"], "77", "HEAD stays HEAD after \(status)")
            XCTAssertEqual(head.body, [])
        }
    }

    func testAuthorizationDroppedOnCrossHostRedirect() throws {
        let other = try startSecondServer()
        let response = try send("GET", redirect(307, to: other.url("/echo?cross")),
                                headers: [("Authorization", "Bearer secret"), ("Cookie", "session=1"), ("X-Other", "kept")])
        XCTAssertEqual(response.url, other.url("/echo?cross"))
        let echo = try Echo(response)
        XCTAssertEqual(echo.port, other.port)
        XCTAssertEqual(echo.values("Authorization"), [], "credentials never go to another host")
        XCTAssertEqual(echo.values("Cookie"), [])
        XCTAssertEqual(echo.values("X-Other"), ["kept"])
    }

    func testAuthorizationKeptOnSameHostRedirect() throws {
        let relative = try Echo(send("GET", redirect(302, to: "/echo"), headers: [("Authorization", "Bearer secret")]))
        XCTAssertEqual(relative.values("Authorization"), ["Bearer secret"])
        let absolute = try Echo(send("GET", redirect(307, to: url("/echo")), headers: [("Authorization", "Bearer secret")]))
        XCTAssertEqual(absolute.values("Authorization"), ["Bearer secret"])
    }

    func testAuthorizationComesBackOnlyWithTheOriginalHost() throws {
        let other = try startSecondServer()
        // original → other server → back to the original.
        let back = other.url(redirect(302, to: url("/echo?back")))
        let response = try send("GET", redirect(302, to: back), headers: [("Authorization", "Bearer secret")])
        XCTAssertEqual(response.url, url("/echo?back"))
        XCTAssertEqual(try Echo(response).values("Authorization"), ["Bearer secret"])
    }

    func testSeeOtherSwitchesToGetWithoutBody() throws {
        let response = try send("POST", redirect(303, to: "/echo"),
                                headers: [("Content-Type", "application/json")], body: .bytes(Array("{}".utf8)))
        let echo = try Echo(response)
        XCTAssertEqual(echo.method, "GET")
        XCTAssertEqual(echo.length, 0)
        XCTAssertEqual(echo.values("Content-Type"), [])
        XCTAssertEqual(echo.values("Content-Length"), [])

        let put = try Echo(send("PUT", redirect(303, to: "/echo"), body: .bytes([1, 2, 3])))
        XCTAssertEqual(put.method, "GET")
    }

    func testFoundTurnsPostIntoGetButKeepsPut() throws {
        let post = try Echo(send("POST", redirect(302, to: "/echo"), body: .bytes([1, 2, 3])))
        XCTAssertEqual(post.method, "GET")
        XCTAssertEqual(post.length, 0)

        let body: [UInt8] = [4, 5, 6, 7]
        let put = try Echo(send("PUT", redirect(301, to: "/echo"), body: .bytes(body)))
        XCTAssertEqual(put.method, "PUT")
        XCTAssertEqual(put.sha256, sha256Hex(body))
    }

    func testTemporaryAndPermanentRedirectsResendTheBody() throws {
        let content = testBytes(count: 2 << 20, seed: 7)
        let path = try temporaryFile(content)
        let file = try Echo(send("PUT", redirect(307, to: "/echo?after307"),
                                 body: .file(path: path, offset: 100, length: 1 << 20)))
        XCTAssertEqual(file.method, "PUT")
        XCTAssertEqual(file.path, "/echo?after307")
        XCTAssertEqual(file.length, 1 << 20)
        XCTAssertEqual(file.sha256, sha256Hex(Array(content[100..<(100 + (1 << 20))])))

        let bytes = try Echo(send("POST", redirect(308, to: "/echo"), body: .bytes(Array(content.prefix(5000)))))
        XCTAssertEqual(bytes.method, "POST")
        XCTAssertEqual(bytes.sha256, sha256Hex(Array(content.prefix(5000))))

        let other = try startSecondServer()
        let cross = try Echo(send("PATCH", redirect(307, to: other.url("/echo")), body: .file(path: path)))
        XCTAssertEqual(cross.port, other.port)
        XCTAssertEqual(cross.method, "PATCH")
        XCTAssertEqual(cross.sha256, sha256Hex(content))
    }

    func testTooManyRedirects() throws {
        XCTAssertThrowsError(try send("GET", "/loop")) {
            XCTAssertEqual($0 as? HTTPError, .tooManyRedirects(url: self.url("/loop")))
        }
        var configuration = HTTPClient.Configuration()
        configuration.maxRedirects = 2
        let client = HTTPClient(configuration: configuration)
        let twice = "/dir/redirect-relative"
        XCTAssertEqual(try client.send(HTTPRequest(method: "GET", url: url(redirect(302, to: twice)))).status, 200)
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: url(redirect(302, to: redirect(302, to: twice))))))
    }

    func testRedirectsCanBeTurnedOff() throws {
        var configuration = HTTPClient.Configuration()
        configuration.maxRedirects = 0
        let client = HTTPClient(configuration: configuration)
        let response = try client.send(HTTPRequest(method: "GET", url: url("/dir/redirect-relative")))
        XCTAssertEqual(response.status, 302)
        XCTAssertEqual(response.headers["Location"], "../echo?via=relative")
        XCTAssertEqual(response.url, url("/dir/redirect-relative"))
    }

    func testRedirectToAnotherSchemeIsRefused() throws {
        XCTAssertThrowsError(try send("GET", redirect(302, to: "file:///etc/passwd"))) {
            XCTAssertEqual($0 as? HTTPError, .invalidURL("file:///etc/passwd"))
        }
    }
}
