@testable import FairNode
import FairKube
import Foundation
import XCTest

/// A projected token is renewed in place once 80% of its life has passed (or a day), and the
/// pod's next sync is due then.
final class ProjectedTokenRefreshTests: XCTestCase {
    private static func token(issued: Date, life: Int64, warnAfter: Int64? = nil, serial: Int) -> String {
        let iat = Int64(issued.timeIntervalSince1970)
        var claims: JSONValue = ["iat": .int(iat), "exp": .int(iat + life), "jti": .string("token-\(serial)")]
        if let warnAfter { claims["kubernetes.io"] = ["warnafter": .int(iat + warnAfter)] }
        let payload = JSONCoding.encode(claims).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "eyJhbGciOiJFUzI1NiJ9.\(payload).c2lnbmF0dXJl"
    }

    func testDueAtEightyPercentOfItsLifeOrAtWarnAfterOrADay() {
        let issued = Date(timeIntervalSince1970: 1_700_000_000)
        XCTAssertEqual(ProjectedTokenRefresh.due(Self.token(issued: issued, life: 1000, serial: 0)), issued.addingTimeInterval(800))
        XCTAssertEqual(ProjectedTokenRefresh.due(Self.token(issued: issued, life: 365 * 86400, warnAfter: 3607, serial: 0))?
            .timeIntervalSince(issued) ?? 0, 3607 * 0.8, accuracy: 0.001)
        XCTAssertEqual(ProjectedTokenRefresh.due(Self.token(issued: issued, life: 30 * 86400, serial: 0)), issued.addingTimeInterval(86400))
        XCTAssertNil(ProjectedTokenRefresh.due("not-a-token"))
    }

    func testPrepareRenewsADueTokenInPlaceAndSaysWhenTheNextIsDue() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let start = Date()
        final class Issued: @unchecked Sendable { var count = 0; var clock = Date() }
        let issued = Issued()
        issued.clock = start
        let sources = ConfigSources(read: { _, _, _ in nil }, token: { ask in
            issued.count += 1
            XCTAssertEqual(ask.audience, "registry.fair.dev")
            return Self.token(issued: issued.clock, life: ask.expirationSeconds, serial: issued.count)
        })
        let pod: JSONValue = [
            "metadata": ["name": "p", "namespace": "ml", "uid": "u1"],
            "spec": ["containers": [["name": "c", "image": "i"]], "volumes": [[
                "name": "registry",
                "projected": ["sources": [["serviceAccountToken": ["path": "token", "audience": "registry.fair.dev", "expirationSeconds": 1000]]]],
            ]]],
        ]
        var volumes = PodVolumes(pod: pod, volumesDirectory: directory)
        volumes.sources = sources
        let paths = try volumes.prepare(now: start)
        let file = try XCTUnwrap(paths["registry"]) + "/token"
        let first = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertEqual(issued.count, 1)
        XCTAssertEqual(volumes.nextTokenRefresh?.timeIntervalSince1970 ?? 0, Double(Int64(start.timeIntervalSince1970) + 800), accuracy: 1)

        _ = try volumes.prepare(now: start.addingTimeInterval(700))
        XCTAssertEqual(issued.count, 1, "not due yet")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), first)

        issued.clock = start.addingTimeInterval(801)
        _ = try volumes.prepare(now: start.addingTimeInterval(801))
        XCTAssertEqual(issued.count, 2)
        let second = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertNotEqual(second, first)
        XCTAssertTrue(second.contains("."), "a whole token, never half")
        XCTAssertEqual(volumes.nextTokenRefresh?.timeIntervalSince(start) ?? 0, 801 + 800, accuracy: 1)

        var finished = PodVolumes(pod: pod, volumesDirectory: directory)
        finished.sources = sources
        finished.renewsTokens = false
        _ = try finished.prepare(now: start.addingTimeInterval(5000))
        XCTAssertEqual(issued.count, 2, "a finished pod's token is left alone")
    }
}
