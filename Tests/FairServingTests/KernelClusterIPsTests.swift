import FairKube
@testable import FairServing
import Foundation
import Logging
import NIOCore
import NIOPosix
import XCTest

final class KernelClusterIPsTests: XCTestCase {
    private func rule(_ ip: String, _ port: Int, _ endpoints: [(String, Int)]) throws -> ClusterIPRule {
        ClusterIPRule(ip: ip, port: port, endpoints: try endpoints.map { try Backend(ip: $0.0, port: $0.1) })
    }

    func testTheRulesetSendsEachClusterIPPortToItsEndpointsAtRandom() throws {
        let script = NFTablesRuleset.script(table: "fair_1_2_0", comment: "fair node n1: cluster IPs\"; flush ruleset", rules: [
            try rule("127.96.0.5", 80, [("127.20.0.2", 8080), ("127.20.0.3", 8080)]),
            try rule("127.96.0.6", 443, [("127.20.0.4", 8443)]),
            try rule("127.96.0.7", 80, []),
        ])
        XCTAssertEqual(script, """
            table ip fair_1_2_0
            delete table ip fair_1_2_0
            table ip fair_1_2_0 {
              comment "fair node n1: cluster IPs flush ruleset"
              map services {
                type ipv4_addr . inet_service : verdict
                elements = { 127.96.0.5 . 80 : goto service_0, 127.96.0.6 . 443 : goto service_1 }
              }
              chain output {
                type nat hook output priority -100; policy accept;
                ip daddr . tcp dport vmap @services
              }
              chain service_0 {
                numgen random mod 2 vmap { 0 : goto endpoint_0_0, 1 : goto endpoint_0_1 }
              }
              chain endpoint_0_0 {
                meta l4proto tcp dnat to 127.20.0.2:8080
              }
              chain endpoint_0_1 {
                meta l4proto tcp dnat to 127.20.0.3:8080
              }
              chain service_1 {
                goto endpoint_1_0
              }
              chain endpoint_1_0 {
                meta l4proto tcp dnat to 127.20.0.4:8443
              }
            }

            """, "a Service without endpoints gets no element; the comment keeps only plain characters")
    }

    func testOnlyIPv4AddressesBecomePartOfARule() throws {
        let script = NFTablesRuleset.script(table: "t", comment: "", rules: [
            ClusterIPRule(ip: "127.96.0.5; flush ruleset", port: 80, endpoints: [try Backend(ip: "127.20.0.2", port: 80)]),
            try rule("127.96.0.6", 80, [("::1", 80), ("127.20.0.9", 81)]),
        ])
        XCTAssertFalse(script.contains("flush"))
        XCTAssertFalse(script.contains("::1"))
        XCTAssertTrue(script.contains("127.96.0.6 . 80 : goto service_0"))
        XCTAssertTrue(script.contains("dnat to 127.20.0.9:81"))
    }

    func testATableNamesTheProcessThatMadeIt() throws {
        let pid = getpid()
        let start = try XCTUnwrap(NFTablesOwner.startTime(of: pid))
        let mine = NFTablesOwner(pid: pid, startTime: start, number: 3)
        XCTAssertEqual(mine.tableName, "fair_\(pid)_\(start)_3")
        XCTAssertEqual(NFTablesOwner(tableName: mine.tableName), mine)
        XCTAssertTrue(mine.isAlive)
        XCTAssertFalse(NFTablesOwner(pid: pid, startTime: start + 1, number: 0).isAlive, "the same pid started at another time is another process")
        XCTAssertNil(NFTablesOwner(tableName: "nat"))
        XCTAssertNil(NFTablesOwner(tableName: "fair_1_2"))
        XCTAssertNil(NFTablesOwner(tableName: "fair_x_2_0"))
    }

    /// With root and nft: the kernel sends a cluster IP's connections to the endpoints (both
    /// reached over enough connections), follows the table, deletes a dead process's table, and
    /// deletes its own on stop.
    func testTheKernelSendsAClusterIPToItsEndpoints() async throws {
        guard geteuid() == 0, let nft = NFTables.find() else { throw XCTSkip("needs root and nft (Debian's nftables)") }
        let group = MultiThreadedEventLoopGroup.singleton
        let first = try await EchoServer.start(group: group), second = try await EchoServer.start(group: group)
        defer { first.close(); second.close() }

        // A table named for this pid with another start time: left by a process that ended.
        let stale = NFTablesOwner(pid: getpid(), startTime: 1, number: 0).tableName
        try nft.apply(NFTablesRuleset.script(table: stale, comment: "stale", rules: []))
        XCTAssertTrue(try nft.ipTables().contains(stale))

        let kernel = try KernelClusterIPs(nft: nft, nodeName: "test", logger: Logger(label: "test"))
        defer { kernel.stop() }
        XCTAssertFalse(try nft.ipTables().contains(stale), "the dead process's table is deleted")
        XCTAssertTrue(try nft.ipTables().contains(kernel.table))

        let clusterIP = "127.251.\(Int.random(in: 0...255)).\(Int.random(in: 1...254))"
        let port = Int.random(in: 20000...40000)
        kernel.want([try rule(clusterIP, port, [("127.0.0.1", first.port), ("127.0.0.1", second.port)])])
        try await waitUntil { kernel.listening.count == 1 }
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        XCTAssertTrue(try ClusterNetworkingTests.exchange(host: clusterIP, port: port, payload: payload) == payload)

        // Random over the two: 40 connections all to one has a chance of 2^-39.
        var served = Set<Int>()
        for _ in 0..<40 {
            _ = try ClusterNetworkingTests.exchange(host: clusterIP, port: port, payload: [1])
        }
        served = Set([first, second].filter { $0.accepted > 0 }.map(\.port))
        XCTAssertEqual(served, [first.port, second.port])

        // No endpoint: nothing answers, the connection is refused.
        kernel.want([try rule(clusterIP, port, [])])
        try await waitUntil { kernel.listening.isEmpty }
        XCTAssertThrowsError(try ClusterNetworkingTests.exchange(host: clusterIP, port: port, payload: [1]))

        kernel.stop()
        XCTAssertFalse(try nft.ipTables().contains(kernel.table), "stop deletes the table")
        kernel.want([try rule(clusterIP, port, [("127.0.0.1", first.port)])])
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertFalse(try nft.ipTables().contains(kernel.table), "nothing applies the table after stop")
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertTrue(condition())
    }
}
