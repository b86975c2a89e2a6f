@testable import FairNode
import FairKube
import Foundation
import XCTest

final class UsageTests: XCTestCase {
    private func sample(cpu: UInt64, memory: UInt64 = 4096, at uptime: TimeInterval) -> CgroupSample {
        CgroupSample(cpuNanoseconds: cpu, workingSetBytes: memory, uptime: uptime, time: Date(timeIntervalSince1970: 1_700_000_000 + uptime))
    }

    func testARateNeedsTwoReadingsAndIsCpuTimeOverTheWindow() throws {
        let history = UsageHistory()
        history.record(["c": sample(cpu: 1_000_000_000, at: 100)])
        XCTAssertNil(history.usage("c"), "one reading is no rate")
        history.record(["c": sample(cpu: 3_500_000_000, memory: 100 << 20, at: 105)])
        let usage = try XCTUnwrap(history.usage("c"))
        XCTAssertEqual(usage.cpuNanoCores, 500_000_000, "2.5 s of CPU in 5 s is half a core")
        XCTAssertEqual(usage.memoryBytes, 100 << 20, "the working set of the later reading")
        XCTAssertEqual(usage.window, 5)
        XCTAssertEqual(usage.time, Date(timeIntervalSince1970: 1_700_000_105))
    }

    func testACounterThatGoesBackStartsANewSeriesAndUnsampledKeysAreForgotten() {
        let history = UsageHistory()
        history.record(["c": sample(cpu: 9_000_000_000, at: 100), "gone": sample(cpu: 1, at: 100)])
        history.record(["c": sample(cpu: 1_000_000, at: 105)])
        XCTAssertNil(history.usage("c"), "a restarted cgroup under the same key gives no negative rate")
        history.record(["c": sample(cpu: 2_000_000, at: 110), "gone": sample(cpu: 5, at: 110)])
        XCTAssertEqual(history.usage("c")?.cpuNanoCores, 200_000)
        XCTAssertNil(history.usage("gone"), "a key missing from a round lost its earlier reading")
    }

    func testStatFilesAndDurations() {
        let stat = "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n"
        XCTAssertEqual(CgroupMemoryEvents.value(of: "usage_usec", inStat: stat), 1234)
        XCTAssertEqual(CgroupMemoryEvents.value(of: "user", inStat: stat), nil)
        XCTAssertEqual(StatsSummary.goDuration(5), "5s")
        XCTAssertEqual(StatsSummary.goDuration(5.0123), "5.012s")
        XCTAssertEqual(StatsSummary.goDuration(15.5), "15.5s")
    }

    func testSummaryLeavesOutContainersWithoutARate() throws {
        let usage = try XCTUnwrap(ResourceUsage(previous: sample(cpu: 0, at: 0), last: sample(cpu: 5_000_000, at: 5)))
        let document = StatsSummary.document(nodeName: "n1", node: usage, pods: [
            .init(namespace: "ml", name: "a", uid: "u1", containers: [.init(name: "main", usage: usage)]),
            .init(namespace: "ml", name: "b", uid: "u2", containers: []),
        ])
        XCTAssertEqual(document.value(at: "node.cpu.usageNanoCores")?.intValue, 1_000_000)
        XCTAssertEqual(document.value(at: "node.cpu.window")?.stringValue, "5s")
        XCTAssertEqual(document["pods"]?.arrayValue?.count, 1)
        XCTAssertEqual(document["pods"]?.arrayValue?.first?.value(at: "podRef.uid")?.stringValue, "u1")
    }
}
