import Foundation
import XCTest
@testable import FairRegistry

final class AuthTests: XCTestCase {
    func testBearerChallengeParsing() {
        let challenge = AuthChallenge.parse(#"Bearer realm="https://auth.example/token?x=1",service="registry.example",scope="repository:a/b:pull,push""#)
        XCTAssertEqual(challenge?.isBearer, true)
        XCTAssertEqual(challenge?.realm, "https://auth.example/token?x=1")
        XCTAssertEqual(challenge?.service, "registry.example")
        XCTAssertEqual(challenge?.parameters["scope"], "repository:a/b:pull,push")
        XCTAssertEqual(AuthChallenge.parse(#"Basic realm="Registry Realm""#)?.isBasic, true)
        XCTAssertEqual(AuthChallenge.parse(#"Bearer realm=unquoted,error="invalid_token""#)?.parameters["error"], "invalid_token")
        XCTAssertNil(AuthChallenge.parse(""))
    }

    func testTokenCacheExpiry() {
        let cache = TokenCache()
        let now = Date()
        cache.store("t", for: ["repository:a:pull", "repository:b:pull"], expiresIn: 300, now: now)
        XCTAssertEqual(cache.token(for: ["repository:b:pull", "repository:a:pull"], now: now), "t", "scope order does not matter")
        XCTAssertNil(cache.token(for: ["repository:a:pull", "repository:b:pull"], now: now.addingTimeInterval(299)),
                     "renewed before it lapses")
        cache.invalidate(["repository:a:pull", "repository:b:pull"])
        XCTAssertNil(cache.token(for: ["repository:a:pull", "repository:b:pull"], now: now))
    }

    func testBasicHeaderIsBase64() {
        XCTAssertEqual(Credentials(username: "fair", password: "s3cret!").basicHeader, "Basic ZmFpcjpzM2NyZXQh")
        XCTAssertEqual(Array("a".utf8).base64EncodedString(), "YQ==")
        XCTAssertEqual(Array("ab".utf8).base64EncodedString(), "YWI=")
    }

    func testDockerConfigRoundTripKeepsOtherSettings() throws {
        let directory = NSTemporaryDirectory() + "docker-config-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/config.json"
        try #"{"auths":{"other.example":{"auth":"dTpw"}},"psFormat":"table"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let config = DockerConfig(path: path)
        try config.store(Credentials(username: "fair", password: "pw:with:colons"), for: "127.0.0.1:5000")
        XCTAssertEqual(try config.credentials(for: "127.0.0.1:5000"), Credentials(username: "fair", password: "pw:with:colons"))
        XCTAssertEqual(try config.credentials(for: "other.example"), Credentials(username: "u", password: "p"))
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        XCTAssertEqual(saved?["psFormat"] as? String, "table", "settings fair does not know survive")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)
        XCTAssertTrue(try config.erase(host: "127.0.0.1:5000"))
        XCTAssertNil(try config.credentials(for: "127.0.0.1:5000"))
        XCTAssertFalse(try config.erase(host: "127.0.0.1:5000"))
    }

    func testDockerHubKeys() throws {
        let directory = NSTemporaryDirectory() + "docker-config-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try #"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnB3"}}}"#.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try DockerConfig(path: directory + "/config.json").credentials(for: "docker.io"), Credentials(username: "hub", password: "pw"))
    }

    func testRetryDelays() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 4)
        XCTAssertEqual(policy.delay(attempt: 0, retryAfter: "3"), 3)
        for attempt in 0..<8 {
            let delay = policy.delay(attempt: attempt)
            XCTAssertLessThanOrEqual(delay, 4)
            XCTAssertGreaterThanOrEqual(delay, min(4, 0.5 * pow(2, Double(attempt))) / 2)
        }
    }
}
