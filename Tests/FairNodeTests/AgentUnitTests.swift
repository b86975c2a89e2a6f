@testable import FairNode
import FairKube
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The pure parts of the agent: Kubernetes' argv and `$(VAR)` rules, pod phases, address
/// allocation, log tails.
final class AgentUnitTests: XCTestCase {
    func testArgvFollowsKubernetes() {
        let argv = KubernetesCommandLine.argv
        XCTAssertEqual(argv([], [], ["/entry"], ["cmd"]), ["/entry", "cmd"])
        XCTAssertEqual(argv(["/bin/x"], [], ["/entry"], ["cmd"]), ["/bin/x"], "command drops Cmd too")
        XCTAssertEqual(argv(["/bin/x"], ["a"], ["/entry"], ["cmd"]), ["/bin/x", "a"])
        XCTAssertEqual(argv([], ["a", "b"], ["/entry"], ["cmd"]), ["/entry", "a", "b"])
        XCTAssertEqual(argv([], ["a"], [], ["cmd"]), ["a"])
    }

    func testVariableExpansion() {
        let values = ["A": "1", "B": "two"]
        let expand = { (text: String) in KubernetesCommandLine.expand(text) { values[$0] } }
        XCTAssertEqual(expand("$(A)-$(B)"), "1-two")
        XCTAssertEqual(expand("$(C)"), "$(C)")
        XCTAssertEqual(expand("$$(A)"), "$(A)")
        XCTAssertEqual(expand("$$"), "$")
        XCTAssertEqual(expand("cost $5 $(A"), "cost $5 $(A")
        XCTAssertEqual(expand("plain"), "plain")
    }

    func testPhases() {
        func report(_ state: ContainerReport.State, last: Bool = false) -> ContainerReport {
            let ended = ContainerTermination(exitCode: 1, reason: "Error", startedAt: nil, finishedAt: Date(), containerID: "x")
            return ContainerReport(name: "c", image: "i", imageID: "", containerID: nil, restartCount: 0, state: state,
                                   lastTermination: last ? ended : nil, ready: false)
        }
        func ended(_ code: Int32) -> ContainerReport.State {
            .terminated(ContainerTermination(exitCode: code, reason: code == 0 ? "Completed" : "Error", startedAt: nil, finishedAt: Date(), containerID: "x"))
        }
        let creating = report(.waiting(WaitingReason(reason: "ContainerCreating")))
        let running = report(.running(startedAt: Date()))
        XCTAssertEqual(PodPhase.compute([creating, running], restartPolicy: "Always"), "Pending")
        XCTAssertEqual(PodPhase.compute([running, report(ended(0))], restartPolicy: "Never"), "Running")
        XCTAssertEqual(PodPhase.compute([report(ended(0)), report(ended(0))], restartPolicy: "Never"), "Succeeded")
        XCTAssertEqual(PodPhase.compute([report(ended(0)), report(ended(2))], restartPolicy: "Never"), "Failed")
        XCTAssertEqual(PodPhase.compute([report(ended(0))], restartPolicy: "OnFailure"), "Succeeded")
        XCTAssertEqual(PodPhase.compute([report(.waiting(WaitingReason(reason: "CrashLoopBackOff")), last: true)], restartPolicy: "OnFailure"), "Running")
        XCTAssertEqual(PodPhase.compute([report(ended(0))], restartPolicy: "Always"), "Running", "Always never succeeds")
    }

    func testAllocatorSkipsReservedAddressesAndRunsOut() throws {
        let allocator = PodIPAllocator(network: try PodNetwork(cidr: "127.0.0.0/29"), claims: nil, busyOnHost: { [] })
        var given: [String] = []
        for index in 0..<5 { given.append(try allocator.allocate(for: "uid-\(index)")) }
        XCTAssertEqual(given, ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"], "never .0, the host's .1 or the broadcast .7")
        XCTAssertEqual(try allocator.allocate(for: "uid-0"), "127.0.0.2", "one address per pod")
        XCTAssertThrowsError(try allocator.allocate(for: "uid-9")) { error in
            XCTAssertTrue("\(error)".contains("no free address"), "\(error)")
        }
        allocator.release("uid-3")
        XCTAssertEqual(try allocator.allocate(for: "uid-9"), "127.0.0.5")
        XCTAssertFalse(allocator.restore("127.0.0.2", for: "other"), "taken")
        XCTAssertFalse(allocator.restore("127.1.0.2", for: "other"), "outside the range")
    }

    func testAllocatorSkipsAddressesTheHostAlreadyListensOn() throws {
        // A real listener on 127.77.0.3, as a pod of another fair server on this machine would be.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.77.0.3")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(descriptor, 1), 0)
        XCTAssertTrue(HostListeners.addresses().contains(0x7F4D_0003))

        let allocator = PodIPAllocator(network: try PodNetwork(cidr: "127.77.0.0/29"), claims: nil)
        XCTAssertEqual(try allocator.allocate(for: "a"), "127.77.0.1")
        XCTAssertEqual(try allocator.allocate(for: "b"), "127.77.0.2")
        XCTAssertEqual(try allocator.allocate(for: "c"), "127.77.0.4", "127.77.0.3 is served by someone else")
    }

    func testHostListenersReadOnlyListeningSocketsOfTheTable() throws {
        let path = NSTemporaryDirectory() + "fair-tcp-\(UUID().uuidString)"
        defer { unlink(path) }
        try Data("""
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0300A87F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
               1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
               2: 0A00007f:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
               3: ZZZZZZZZ:0050 00000000:0000 0A
               4: 0500007F
            """.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(HostListeners.addresses(table: path), [0x7FA8_0003, 0x7F00_000A])
        XCTAssertEqual(HostListeners.addresses(table: path + "-missing"), [])
    }

    func testTwoNodesOnOneHostNeverShareAnAddress() throws {
        // Two servers on one machine, both on the same range, neither listening yet: the second
        // passes over what the first claimed, takes what it released, and a claim dies with its
        // holder.
        let path = NSTemporaryDirectory() + "fair-claims-\(UUID().uuidString)"
        defer { unlink(path) }
        let network = try PodNetwork(cidr: "127.78.0.0/29")
        let first = PodIPAllocator(network: network, claims: try XCTUnwrap(HostAddressClaims(path: path)), busyOnHost: { [] })
        var second: PodIPAllocator? = PodIPAllocator(network: network, claims: try XCTUnwrap(HostAddressClaims(path: path)), busyOnHost: { [] })
        XCTAssertEqual(try first.allocate(for: "a"), "127.78.0.1")
        XCTAssertEqual(try first.allocate(for: "b"), "127.78.0.2")
        XCTAssertEqual(try second?.allocate(for: "x"), "127.78.0.3", "the first node's addresses are passed over")
        XCTAssertFalse(second?.restore("127.78.0.1", for: "y") ?? true, "a restart does not take another node's address either")
        XCTAssertEqual(try first.allocate(for: "c"), "127.78.0.4", "nor the other way round")
        first.release("a")
        XCTAssertTrue(second?.restore("127.78.0.1", for: "y") ?? false, "released host-wide")
        second = nil
        XCTAssertTrue(first.restore("127.78.0.3", for: "z"), "the other node has gone, and its claims with it")
    }

    func testLogTailOffsets() throws {
        let path = NSTemporaryDirectory() + "fair-log-tail-\(UUID().uuidString)"
        defer { unlink(path) }
        func offset(_ text: String, _ lines: Int) -> Int64 {
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            let descriptor = open(path, O_RDONLY)
            defer { close(descriptor) }
            return LogTail.offset(descriptor: descriptor, size: Int64(text.utf8.count), lines: lines)
        }
        XCTAssertEqual(offset("a\nb\nc\n", 1), 4)
        XCTAssertEqual(offset("a\nb\nc\n", 2), 2)
        XCTAssertEqual(offset("a\nb\nc\n", 5), 0)
        XCTAssertEqual(offset("a\nb\nc", 1), 4, "an unterminated last line counts")
        XCTAssertEqual(offset("a\nb\nc", 0), 5)
        XCTAssertEqual(offset("", 3), 0)
        // Across read blocks.
        let long = (0..<30_000).map { "line \($0)\n" }.joined()
        let start = offset(long, 3)
        XCTAssertEqual(String(decoding: Array(long.utf8.dropFirst(Int(start))), as: UTF8.self), "line 29997\nline 29998\nline 29999\n")
    }

    func testRawLogsAreStampedPerLineAcrossChunks() {
        var decoder = LogDecoder(options: ContainerLogOptions(timestamps: true))
        let time = Date(timeIntervalSince1970: 1_700_000_000.5)
        let first = String(decoding: decoder.decode(Array("a\nb".utf8)[...], readAt: time), as: UTF8.self)
        let second = String(decoding: decoder.decode(Array("c\nd\n".utf8)[...], readAt: time), as: UTF8.self)
        XCTAssertEqual(first + second, "2023-11-14T22:13:20.500000000Z a\n2023-11-14T22:13:20.500000000Z bc\n2023-11-14T22:13:20.500000000Z d\n")
    }

    func testCRILinesAreDecodedJoinedFilteredAndLimited() {
        let file = """
            2023-11-14T22:13:20.100000000Z stdout F first
            2023-11-14T22:13:21.200000000Z stderr P par
            2023-11-14T22:13:21.300000000Z stderr F tial
            2023-11-14T22:13:22.000000000Z stdout F last

            """
        func decoded(_ options: ContainerLogOptions, chunk: Int = 7) -> String {
            var decoder = LogDecoder(options: options)
            var output: [UInt8] = []
            let bytes = Array(file.utf8)
            for start in stride(from: 0, to: bytes.count, by: chunk) {
                output += decoder.decode(bytes[start..<min(bytes.count, start + chunk)], readAt: Date())
                if decoder.limitReached { break }
            }
            output += decoder.finish(readAt: Date())
            return String(decoding: output, as: UTF8.self)
        }
        XCTAssertEqual(decoded(ContainerLogOptions()), "first\npartial\nlast\n")
        XCTAssertEqual(decoded(ContainerLogOptions(timestamps: true)),
                       "2023-11-14T22:13:20.100000000Z first\n2023-11-14T22:13:21.200000000Z partial\n2023-11-14T22:13:22.000000000Z last\n")
        var since = ContainerLogOptions()
        since.since = Date(timeIntervalSince1970: 1_700_000_001)  // 22:13:21
        XCTAssertEqual(decoded(since), "partial\nlast\n")
        var limited = ContainerLogOptions()
        limited.limitBytes = 9
        XCTAssertEqual(decoded(limited), "first\npar")
    }

    func testLogWriterWritesCRILinesAndSplitsLongOnes() throws {
        var pipe: [Int32] = [0, 0]
        XCTAssertEqual(pipe.withUnsafeMutableBufferPointer { Glibc.pipe($0.baseAddress!) }, 0)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("cri-\(UUID().uuidString).log").path
        let file = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { unlink(output) }
        let long = String(repeating: "x", count: CRILogFormat.maximumLineBytes + 10)
        let text = "hello\n\(long)\nno newline"
        _ = text.withCString { write(pipe[1], $0, strlen($0)) }
        close(pipe[1])
        XCTAssertEqual(ContainerLogWriter.run(stream: "stderr", input: pipe[0], output: file), 0)
        close(pipe[0])
        close(file)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines[0].hasSuffix(" stderr F hello"), lines[0])
        XCTAssertTrue(lines[1].contains(" stderr P x"), String(lines[1].prefix(60)))
        XCTAssertTrue(lines[2].hasSuffix(" stderr F xxxxxxxxxx"), String(lines[2].suffix(60)))
        XCTAssertTrue(lines[3].hasSuffix(" stderr P no newline"), lines[3])
        var decoder = LogDecoder(options: ContainerLogOptions())
        let bytes = Array(try String(contentsOfFile: output, encoding: .utf8).utf8)
        let decoded = decoder.decode(bytes[...], readAt: Date()) + decoder.finish(readAt: Date())
        XCTAssertEqual(String(decoding: decoded, as: UTF8.self), text)
    }
}
