@testable import FairRegistryServer
import Foundation
import XCTest

/// A cluster account's credential at the registry: exchanged for a token cut down to what the
/// cluster lets the account do, never used as a push credential itself.
final class AccountAccessTests: XCTestCase {
    private let policy = RegistryAccessPolicy(adminSecret: "admin-secret", anonymousPull: true, accounts: { credential in
        guard credential == "account-jwt" else { return nil }
        return { repository, action in repository == "models/churn" && ["push", "pull"].contains(action) }
    })

    func testTheExchangeGrantsWhatTheClusterAllowsAndNothingMore() throws {
        let requested = [RegistryScope(repository: "models/churn", actions: [.push, .pull, .delete]),
                         RegistryScope(repository: "models/fraud", actions: [.push, .pull])]
        let answer = try XCTUnwrap(policy.token(requested: requested, authorization: "Bearer account-jwt", lifetime: 60))
        XCTAssertEqual(answer.scopes, [RegistryScope(repository: "models/churn", actions: [.push, .pull]),
                                       RegistryScope(repository: "models/fraud", actions: [.pull])])
        let push = [RegistryScope(repository: "models/churn", actions: [.push])]
        XCTAssertEqual(policy.decide(required: push, authorization: "Bearer \(answer.token)"), .allow)
        XCTAssertEqual(policy.decide(required: [RegistryScope(repository: "models/fraud", actions: [.push])],
                                     authorization: "Bearer \(answer.token)"), .deny)
    }

    func testTheAccountCredentialItselfPushesNothingAndIsAClusterCredential() {
        let push = [RegistryScope(repository: "models/churn", actions: [.push])]
        XCTAssertEqual(policy.decide(required: push, authorization: "Bearer account-jwt"), .challenge)
        XCTAssertTrue(policy.grant("Basic " + Data("serviceaccount:account-jwt".utf8).base64EncodedString()).isClusterCredential)
        XCTAssertFalse(policy.grant("Bearer someone-else").isClusterCredential)
        XCTAssertNil(policy.token(requested: push, authorization: "Bearer someone-else", lifetime: 60))
    }
}
