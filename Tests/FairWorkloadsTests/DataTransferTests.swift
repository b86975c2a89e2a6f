import FairArchive
import FairKube
@testable import FairWorkloads
import Foundation
import XCTest

/// The pieces of `fair data` that need no cluster: where in a claim, which paths may cross,
/// how they are sent, the pod fair starts, and the manifest the pod sends back.
final class DataTransferTests: XCTestCase {
    func testClaimLocationsParse() throws {
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:data"), ClaimLocation(claim: "data", path: ""))
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:data:"), ClaimLocation(claim: "data", path: ""))
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:data:/"), ClaimLocation(claim: "data", path: ""))
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:data:sets/mnist"), ClaimLocation(claim: "data", path: "sets/mnist"))
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:data:/sets//./mnist/"), ClaimLocation(claim: "data", path: "sets/mnist"))
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:my.claim-1:a b/é:x"), ClaimLocation(claim: "my.claim-1", path: "a b/é:x"))
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:data:sets/mnist").description, "pvc:data:sets/mnist")
        XCTAssertEqual(try ClaimLocation(parsing: "pvc:data:/").description, "pvc:data")
    }

    func testBadClaimLocationsSayWhy() {
        func message(_ text: String) -> String {
            do {
                _ = try ClaimLocation(parsing: text)
                return "parsed"
            } catch {
                return error.description
            }
        }
        for text in ["data", "pvc:", "pvc::x", "./pvc:data", "volume:data"] {
            XCTAssertTrue(message(text).contains("expected pvc:NAME or pvc:NAME:PATH"), "\(text): \(message(text))")
        }
        XCTAssertTrue(message("pvc:Data").contains("is not a valid claim name"))
        XCTAssertTrue(message("pvc:data:../etc").contains("leaves the claim"))
        XCTAssertTrue(message("pvc:data:a/../../b").contains("leaves the claim"))
        XCTAssertTrue(message("pvc:data:a\0b").contains("NUL"))
    }

    func testOnlyPlainRelativePathsCross() {
        for path in ["a", "a/b.txt", "a b/é/ü.bin", ".hidden", "a..b", "...", "x/.y"] {
            XCTAssertNil(DataPath.problem(path), path)
        }
        for path in ["", "/etc/passwd", "..", "../x", "a/../../x", "a/..", "./a", "a/./b", "a//b", "a/", "a\0b"] {
            XCTAssertNotNil(DataPath.problem(path), path)
        }
    }

    func testPathsArePercentEncodedSegmentBySegment() {
        XCTAssertEqual(DataPath.encoded("a/b-c_d.e~f"), "a/b-c_d.e~f")
        XCTAssertEqual(DataPath.encoded("a b/é?#%"), "a%20b/%C3%A9%3F%23%25")
        XCTAssertEqual(DataPath.encoded("x:y+z"), "x%3Ay%2Bz")
    }

    func testThePodMountsTheClaimRunsTheToolAndEnds() throws {
        var pod = DataPod(name: "fair-data-set-abcde", namespace: "ml", location: try ClaimLocation(parsing: "pvc:set:in/here"),
                          image: "registry:5000/fair-base@sha256:1", readOnly: true)
        pod.idleTimeoutSeconds = 60
        let manifest = pod.manifest
        XCTAssertEqual(manifest.value(at: "spec.restartPolicy"), "Never")
        XCTAssertEqual(manifest.value(at: "spec.activeDeadlineSeconds")?.intValue, 86400)
        XCTAssertEqual(manifest.value(at: "spec.automountServiceAccountToken"), false)
        XCTAssertEqual(manifest.value(at: ["metadata", "labels", "fair.dev/claim"]), "set")
        XCTAssertEqual(manifest.value(at: ["metadata", "labels", "app.kubernetes.io/name"]), "fair-data")
        let volumes = manifest.value(at: "spec.volumes")?.arrayValue ?? []
        XCTAssertEqual(volumes.first?.value(at: "persistentVolumeClaim.claimName"), "set")
        XCTAssertEqual(volumes.first?.value(at: "persistentVolumeClaim.readOnly"), true)
        XCTAssertEqual(volumes.last?.value(at: "configMap.name"), .string(ModelTools.configMapName))
        let container = manifest.value(at: "spec.containers")?.arrayValue?.first
        let command = container?["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(command, ["python3", "-u", "/opt/fair/tools/fair-data.py", "--root", "/data", "--port", "8470",
                                 "--idle-timeout", "60", "--path", "in/here", "--read-only"])
        XCTAssertEqual(container?.value(at: "readinessProbe.httpGet.path"), "/healthz")
        XCTAssertEqual(container?["volumeMounts"]?.arrayValue?.first?["mountPath"], "/data")
        XCTAssertTrue(ModelTools.files.contains("fair-data.py"))
        XCTAssertNotNil(BuiltInTemplates.files["fair-data.py"])

        let name = DataPod.name(for: String(repeating: "a.", count: 40) + "z")
        XCTAssertLessThanOrEqual(name.count, 63)
        XCTAssertTrue(KubernetesNameRules.isDNSSubdomain(name) && !name.contains("."), name)
    }

    func testTheManifestStreamsInLinesAndMustEnd() throws {
        let sink = DataManifestSink()
        let lines = """
            {"path": "a b/é.txt", "size": 3, "mode": 420, "sha256": "\(String(repeating: "AB", count: 32))"}
            {"path": "run.sh", "size": 0, "mode": 493, "sha256": "\(String(repeating: "0", count: 64))"}
            {"end": true, "files": 2, "skipped": [{"path": "link", "why": "a symbolic link"}]}

            """
        let bytes = Array(lines.utf8)
        // Split anywhere, as the network splits it.
        try sink.write(Array(bytes[..<17]))
        try sink.write(Array(bytes[17...]))
        try sink.finish()
        XCTAssertTrue(sink.ended)
        XCTAssertEqual(sink.manifest.entries, [
            .init(path: "a b/é.txt", size: 3, mode: 0o644, sha256: String(repeating: "ab", count: 32)),
            .init(path: "run.sh", size: 0, mode: 0o755, sha256: String(repeating: "0", count: 64)),
        ])
        XCTAssertEqual(sink.manifest.skipped.map(\.path), ["link"])

        let cut = DataManifestSink()
        try cut.write(Array(#"{"path": "x", "size": 1, "mode": 420, "sha256": "\#(String(repeating: "0", count: 64))"}"#.utf8) + [10])
        try cut.finish()
        XCTAssertFalse(cut.ended, "no last line: the list may be incomplete")

        for bad in [#"{"path": "x", "size": -1, "mode": 420, "sha256": "00"}"#, #"{"path": "x", "size": 1, "mode": 4095, "sha256": "\#(String(repeating: "0", count: 64))"}"#, "not json"] {
            XCTAssertThrowsError(try DataManifestSink().write(Array((bad + "\n").utf8)), bad)
        }
        XCTAssertThrowsError(try DataManifestSink().write(Array(repeating: UInt8(ascii: "x"), count: 70_000)), "a line without end")
    }

    func testALocalTreeListsRegularFilesAndSkipsLinks() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fair-data-tree-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/a/é b", withIntermediateDirectories: true)
        try Data("12345".utf8).write(to: URL(fileURLWithPath: "\(root)/a/é b/five"))
        try Data().write(to: URL(fileURLWithPath: "\(root)/empty"))
        try FileManager.default.createSymbolicLink(atPath: "\(root)/link", withDestinationPath: "/etc/passwd")
        try FileManager.default.createDirectory(atPath: "\(root)/nothing-in-here", withIntermediateDirectories: true)
        let tree = try LocalTree.walk(root)
        XCTAssertEqual(tree.files.map(\.path), ["a/é b/five", "empty"])
        XCTAssertEqual(tree.files.map(\.size), [5, 0])
        XCTAssertEqual(tree.skipped.map(\.path), ["link"])
        let single = try LocalTree.walk("\(root)/a/é b/five")
        XCTAssertEqual(single.files.map(\.path), ["five"])
    }
}
