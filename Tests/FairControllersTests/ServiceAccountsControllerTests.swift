import FairKube
import Foundation
import XCTest

final class ServiceAccountsControllerTests: ControllerTestCase {
    private func defaultAccount(in namespace: String) -> JSONValue? {
        try? client.get(.serviceAccounts, namespace: namespace, name: "default")
    }

    func testEveryNamespaceKeepsADefaultServiceAccount() throws {
        startControllers()
        _ = try client.create(.namespaces, ["metadata": ["name": "team-a"]])
        try waitUntil("default in team-a and in default") {
            defaultAccount(in: "team-a") != nil && defaultAccount(in: "default") != nil
        }
        let first = try XCTUnwrap(defaultAccount(in: "team-a"))
        try client.delete(.serviceAccounts, namespace: "team-a", name: "default")
        try waitUntil("default made again") { defaultAccount(in: "team-a").map { $0.uid != first.uid } ?? false }
        // Other accounts are the user's: deleting one brings nothing back.
        _ = try client.create(.serviceAccounts, namespace: "team-a", ["metadata": ["name": "trainer"]])
        try client.delete(.serviceAccounts, namespace: "team-a", name: "trainer")
        try stays("trainer stays deleted", for: 0.3) { (try? client.get(.serviceAccounts, namespace: "team-a", name: "trainer")) == nil }
    }

    func testAPodRunsAsDefaultUnlessItNamesAnAccount() throws {
        // A pod may only name an account that exists (kube's ServiceAccount admission).
        for name in ["trainer", "old"] { _ = try client.create(.serviceAccounts, namespace: "default", ["metadata": ["name": .string(name)]]) }
        let plain = try client.create(.pods, ["metadata": ["name": "plain"], "spec": ["containers": [Self.container()]]])
        XCTAssertEqual(plain.value(at: "spec.serviceAccountName"), "default")
        XCTAssertEqual(plain.value(at: "spec.serviceAccount"), "default")
        let named = try client.create(.pods, ["metadata": ["name": "named"],
                                             "spec": ["serviceAccountName": "trainer", "containers": [Self.container()]]])
        XCTAssertEqual(named.value(at: "spec.serviceAccountName"), "trainer")
        let legacy = try client.create(.pods, ["metadata": ["name": "legacy"],
                                              "spec": ["serviceAccount": "old", "containers": [Self.container()]]])
        XCTAssertEqual(legacy.value(at: "spec.serviceAccountName"), "old")
    }
}
