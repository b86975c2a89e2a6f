@testable import FairNode
import FairKube
import Foundation
import XCTest

/// Pods with securityContexts and subPaths, run by a node agent with the real runc runtime: what
/// the containers see, and what the agent refuses to start.
final class AgentSecurityTests: AgentTestCase {
    nonisolated(unsafe) private static var environment: RuntimeTestEnvironment?
    nonisolated(unsafe) private static var startError: Error?
    private var runtime: RuncRuntime?

    override class func setUp() {
        super.setUp()
        do { environment = try RuntimeTestEnvironment.start() } catch { startError = error }
    }

    override class func tearDown() {
        environment?.stop()
        environment = nil
        super.tearDown()
    }

    override func setUp() async throws {
        if let error = Self.startError { throw error }
        try await super.setUp()
    }

    override func tearDown() async throws {
        if let runtime {
            for id in (try? runtime.containerIDs()) ?? [] { try? runtime.remove(id: id) }
        }
        try await super.tearDown()
    }

    private var image: JSONValue { .string(Self.environment!.busybox.reference) }
    private var nodeDirectory: String { cluster.nodeDirectory("node-1") }

    private func startRuncAgent(allowPrivileged: Bool = false) throws {
        let environment = try XCTUnwrap(Self.environment)
        var options = quickOptions("node-1")
        options.allowPrivileged = allowPrivileged
        var runcOptions = RuncRuntime.Options()
        runcOptions.cgroupParent = environment.cgroupParent
        runcOptions.tmpSizeBytes = 16 << 20
        let runtime = try RuncRuntime(dataDirectory: options.dataDirectory, images: environment.images, options: runcOptions)
        self.runtime = runtime
        try startAgent(options, runtime: runtime)
    }

    private func container(_ name: String, _ script: String, mounts: [JSONValue] = [], securityContext: JSONValue? = nil) -> JSONValue {
        var container: [String: JSONValue] = ["name": .string(name), "image": image, "command": ["/bin/sh", "-c", .string(script)],
                                              "volumeMounts": .array(mounts)]
        if let securityContext { container["securityContext"] = securityContext }
        return .object(container)
    }

    private func log(_ pod: JSONValue?, _ container: String) -> String {
        let path = "\(nodeDirectory)/pods/\(pod?.uid ?? "")/logs/\(container)/0.log"
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    private func waitingReason(_ pod: String, _ container: String) -> JSONValue? {
        eventually("\(container) of \(pod) waiting with a config error", timeout: 30, { cluster.pod(pod) }, until: {
            $0?.containerStatus(container)?.value(at: "state.waiting.reason") == "CreateContainerConfigError"
        })?.containerStatus(container)?.value(at: "state.waiting")
    }

    // MARK: - subPath

    func testASubPathThroughALinkOutOfTheVolumeIsRefused() throws {
        let hostDirectory = cluster.directory + "/host-only"
        try FileManager.default.createDirectory(atPath: hostDirectory, withIntermediateDirectories: true)
        try "host secret\n".write(toFile: hostDirectory + "/secret.txt", atomically: false, encoding: .utf8)
        try startRuncAgent()
        let steal = "cat /stolen/secret.txt; echo written > /stolen/written"
        try cluster.createPod("escape", node: "node-1", containers: [
            container("absolute", steal, mounts: [["name": "vol", "mountPath": "/stolen", "subPath": "to-host"]]),
            container("relative", steal, mounts: [["name": "vol", "mountPath": "/stolen", "subPath": "up/host-only"]]),
        ], restartPolicy: "Never", extraSpec: [
            "volumes": [["name": "vol", "emptyDir": [:]]],
            "initContainers": [container("plant", "ln -s \(hostDirectory) /vol/to-host && ln -s ../../../../../.. /vol/up",
                                         mounts: [["name": "vol", "mountPath": "/vol"]])],
        ])
        // The relative link climbs from DATA/pods/UID/volumes/vol to the test directory.
        XCTAssertTrue(nodeDirectory.hasPrefix(cluster.directory + "/nodes/"))

        for name in ["absolute", "relative"] {
            let waiting = waitingReason("escape", name)
            let message = waiting?["message"]?.stringValue ?? ""
            XCTAssertTrue(message.contains("subPath \"") && message.contains("outside the volume"), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: hostDirectory + "/written"), "a container wrote into the host")
        let pod = cluster.pod("escape")
        XCTAssertEqual(log(pod, "absolute"), "", "never started")
        XCTAssertEqual(log(pod, "relative"), "")
    }

    func testASubPathInsideTheVolumeIsMountedAndUnmountedWithThePod() throws {
        try startRuncAgent()
        try cluster.createPod("inside", node: "node-1", containers: [
            container("reader", "cat /data/file; echo made > /made/file", mounts: [
                ["name": "vol", "mountPath": "/data", "subPath": "link", "readOnly": true],
                ["name": "vol", "mountPath": "/made", "subPath": "new/dir"],
            ]),
        ], restartPolicy: "Never", extraSpec: [
            "volumes": [["name": "vol", "emptyDir": [:]]],
            "initContainers": [container("plant", "mkdir /vol/real && echo inside > /vol/real/file && ln -s real /vol/link",
                                         mounts: [["name": "vol", "mountPath": "/vol"]])],
        ])
        let pod = waitForPhase("inside", "Succeeded", timeout: 30)
        XCTAssertEqual(log(pod, "reader"), "inside\n")
        let podDirectory = "\(nodeDirectory)/pods/\(pod?.uid ?? "")"
        XCTAssertEqual(try String(contentsOfFile: podDirectory + "/volumes/vol/new/dir/file", encoding: .utf8), "made\n")
        XCTAssertFalse(HostMounts.mountPoints(under: podDirectory + "/volume-subpaths").isEmpty, "staged through bind mounts")

        // Modes after a pod ran: nothing of the node is readable by other local users.
        XCTAssertEqual(try mode(nodeDirectory), 0o700)
        XCTAssertEqual(try mode(nodeDirectory + "/pods"), 0o700)
        XCTAssertEqual(try mode(podDirectory + "/logs/reader/0.log"), 0o600)
        XCTAssertEqual(try mode(podDirectory + "/state.json"), 0o600)
        XCTAssertEqual(try mode(Self.environment!.images.imagesDirectory), 0o700)

        try client.delete(.pods, namespace: "default", name: "inside", gracePeriodSeconds: 0)
        eventually("the pod's directory removed", timeout: 20, { FileManager.default.fileExists(atPath: podDirectory) }, until: { !$0 })
        XCTAssertEqual(HostMounts.mountPoints(under: podDirectory), [])
    }

    // MARK: - securityContext

    func testPodAndContainerSecurityContextsReachTheProcess() throws {
        try startRuncAgent()
        try cluster.createPod("ids", node: "node-1", containers: [
            container("user", "cat /proc/self/status", securityContext: ["runAsUser": 2000, "allowPrivilegeEscalation": false]),
            container("raw", "cat /proc/self/status", securityContext: ["runAsUser": 0, "capabilities": ["add": ["NET_RAW"]]]),
        ], restartPolicy: "Never", extraSpec: [
            "securityContext": ["runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 4000, "supplementalGroups": [5000]],
        ])
        let pod = waitForPhase("ids", "Succeeded", timeout: 30)
        let user = statusFields(log(pod, "user"))
        XCTAssertEqual(user["Uid"], "2000\t2000\t2000\t2000", "the container's runAsUser wins")
        XCTAssertEqual(user["Gid"], "3000\t3000\t3000\t3000")
        XCTAssertEqual(user["Groups"], "4000 5000")
        XCTAssertEqual(user["NoNewPrivs"], "1")
        XCTAssertEqual(user["Seccomp"], "2")
        let raw = statusFields(log(pod, "raw"))
        XCTAssertEqual(raw["Uid"], "0\t0\t0\t0")
        XCTAssertNotEqual((UInt64(raw["CapEff"] ?? "", radix: 16) ?? 0) & (1 << 13), 0, "CAP_NET_RAW when added")
    }

    func testRunAsNonRootWithARootImageDoesNotStart() throws {
        try startRuncAgent()
        try cluster.createPod("rooted", node: "node-1", containers: [container("app", "echo ran")], restartPolicy: "Never",
                              extraSpec: ["securityContext": ["runAsNonRoot": true]])
        let message = waitingReason("rooted", "app")?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("container has runAsNonRoot and image will run as root"), message)
        XCTAssertEqual(log(cluster.pod("rooted"), "app"), "")
        XCTAssertEqual(try runtime?.containerIDs(), [])
    }

    func testPrivilegedIsRefusedUnlessTheNodeAllowsIt() throws {
        try startRuncAgent()
        try cluster.createPod("root-of-host", node: "node-1", containers: [
            container("app", "echo ran", securityContext: ["privileged": true]),
        ], restartPolicy: "Never")
        let message = waitingReason("root-of-host", "app")?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("privileged containers are not allowed on this node"), message)
        XCTAssertTrue(message.contains("--allow-privileged"), message)
        XCTAssertEqual(try runtime?.containerIDs(), [])
    }

    private func statusFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for entry in text.split(separator: "\n") {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            fields[String(entry[..<colon])] = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    private func mode(_ path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? Int ?? -1) & 0o7777
    }
}
