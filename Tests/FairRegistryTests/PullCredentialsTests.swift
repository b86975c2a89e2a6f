import FairRegistry
import Foundation
import XCTest

final class PullCredentialsTests: XCTestCase {
    private func parse(_ configs: String...) -> PullCredentials {
        PullCredentials(dockerConfigs: configs.map { Array($0.utf8) })
    }

    func testKeysAreMatchedByHostHoweverTheyAreWritten() {
        let auth = Data("alice:pa:ss".utf8).base64EncodedString()
        let credentials = parse(#"""
        {"auths": {"https://registry.example.com:5000/v1/": {"auth": "\#(auth)"},
                   "127.0.0.1:5001": {"username": "bob", "password": "pw"},
                   "https://index.docker.io/v1/": {"auth": "\#(Data("hub:tok".utf8).base64EncodedString())"}}}
        """#)
        XCTAssertEqual(credentials.credentials(for: "registry.example.com:5000"), Credentials(username: "alice", password: "pa:ss"))
        XCTAssertNil(credentials.credentials(for: "registry.example.com"))
        XCTAssertEqual(credentials.credentials(for: "127.0.0.1:5001")?.username, "bob")
        XCTAssertEqual(credentials.credentials(for: "docker.io")?.username, "hub")
    }

    func testTheLegacyDockercfgFormAndTheFirstSecretWins() {
        let credentials = parse(#"{"r.example": {"auth": "\#(Data("first:1".utf8).base64EncodedString())"}}"#,
                                #"{"auths": {"r.example": {"username": "second", "password": "2"}, "s.example": {"username": "s", "password": "3"}}}"#)
        XCTAssertEqual(credentials.credentials(for: "r.example")?.username, "first")
        XCTAssertEqual(credentials.credentials(for: "s.example")?.username, "s")
    }

    func testWhatIsNotACredentialIsSkipped() {
        let credentials = parse("not json", #"{"auths": {"a.example": {"auth": "!!"}, "b.example": "x"}}"#)
        XCTAssertTrue(credentials.isEmpty)
    }
}
