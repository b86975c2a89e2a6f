import Foundation
import XCTest

@testable import FairHTTP

/// HTTPS against a server whose certificate comes from a private CA: trusted through the
/// configuration or SSL_CERT_FILE, refused (and not retried) otherwise.
final class HTTPClientTLSTests: XCTestCase {
    private var directory: String!
    private var server: TestServer!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "fair-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(toFile: "\(directory!)/ext.cnf", atomically: true, encoding: .utf8)
        for arguments in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=fair test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
             "-days", "2", "-extfile", "ext.cnf"],
        ] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "openssl \(arguments.first!) failed")
        }
        server = try TestServer(tls: (certificate: "\(directory!)/server.pem", key: "\(directory!)/server.key"))
    }

    override func tearDownWithError() throws {
        server?.stop()
        server = nil
        unsetenv("SSL_CERT_FILE")
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testTrustedThroughTheConfiguredCA() throws {
        var configuration = HTTPClient.Configuration()
        configuration.caFile = "\(directory!)/ca.pem"
        let response = try HTTPClient(configuration: configuration).send(HTTPRequest(method: "GET", url: server.url("/echo")))
        XCTAssertEqual(response.status, 200)
    }

    func testTrustedThroughSSLCertFile() throws {
        setenv("SSL_CERT_FILE", "\(directory!)/ca.pem", 1)
        let response = try HTTPClient().send(HTTPRequest(method: "GET", url: server.url("/echo")))
        XCTAssertEqual(response.status, 200)
    }

    func testUnknownCAIsRefusedAndNotRetryable() throws {
        XCTAssertThrowsError(try HTTPClient().send(HTTPRequest(method: "GET", url: server.url("/echo")))) { error in
            guard let error = error as? HTTPError, case .transport = error else {
                return XCTFail("expected a transport error, got \(error)")
            }
            XCTAssertFalse(error.isRetryable, "a certificate problem does not go away by retrying")
            XCTAssertTrue(error.description.lowercased().contains("certificate"), error.description)
        }
    }
}
