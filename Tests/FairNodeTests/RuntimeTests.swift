import FairKube
@testable import FairNode
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Containers run for real with runc, from an image pulled through the embedded registry.
final class RuntimeTests: XCTestCase {
    nonisolated(unsafe) private static var environment: RuntimeTestEnvironment?
    nonisolated(unsafe) private static var startError: Error?

    private var environment: RuntimeTestEnvironment!
    private var runtime: RuncRuntime!
    private var started: [String] = []

    override class func setUp() {
        super.setUp()
        do { environment = try RuntimeTestEnvironment.start() } catch { startError = error }
    }

    override class func tearDown() {
        environment?.stop()
        environment = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        if let error = Self.startError { throw error }
        environment = try XCTUnwrap(Self.environment)
        runtime = try environment.makeRuntime()
        started = []
    }

    override func tearDownWithError() throws {
        for id in started { try? runtime.remove(id: id) }
    }

    private func start(_ spec: ContainerSpec, on runtime: RuncRuntime? = nil) throws {
        started.append(spec.id)
        try (runtime ?? self.runtime).start(spec)
    }

    private func log(_ spec: ContainerSpec) throws -> String {
        try String(contentsOfFile: spec.logPath, encoding: .utf8)
    }

    // MARK: - Exit codes and logs

    func testEchoExitsZeroAndItsOutputIsAppendedToTheLog() throws {
        let spec = environment.spec("echo", args: ["/bin/sh", "-c", "echo hello; echo world; echo oops >&2"])
        try FileManager.default.createDirectory(atPath: (spec.logPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try "earlier\n".write(toFile: spec.logPath, atomically: false, encoding: .utf8)
        try start(spec)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id))
        XCTAssertEqual(exit.code, 0)
        XCTAssertEqual(exit.reason, "Completed")
        let startedAt = try XCTUnwrap(exit.startedAt)
        XCTAssertLessThanOrEqual(startedAt, exit.finishedAt)
        XCTAssertLessThan(abs(exit.finishedAt.timeIntervalSinceNow), 60)
        // runc copies stdout and stderr separately: each keeps its order, not their interleaving.
        let lines = try log(spec).split(separator: "\n")
        XCTAssertEqual(lines.first, "earlier")
        XCTAssertEqual(lines.filter { $0 != "oops" }, ["earlier", "hello", "world"])
        XCTAssertEqual(lines.filter { $0 == "oops" }.count, 1)
        XCTAssertEqual(runtime.state(id: spec.id), .exited(code: 0, reason: "Completed", startedAt: exit.startedAt, finishedAt: exit.finishedAt),
                       "an exited container keeps its state")
    }

    func testAFailingCommandReportsItsExitCodeAsError() throws {
        let spec = environment.spec("fail", args: ["/bin/sh", "-c", "echo failing; exit 3"])
        try start(spec)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id))
        XCTAssertEqual(exit.code, 3)
        XCTAssertEqual(exit.reason, "Error")
        XCTAssertEqual(try log(spec), "failing\n")
    }

    func testAMissingExecutableFailsToStartWithRuncsReason() throws {
        let spec = environment.spec("missing", args: ["/no/such/program"])
        XCTAssertThrowsError(try start(spec)) { error in
            guard case let .startFailed(id, detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(id, spec.id)
            XCTAssertTrue(detail.contains("/no/such/program"), detail)
        }
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id, timeout: 10))
        XCTAssertEqual(exit.code, 128, "never ran")
        XCTAssertEqual(exit.reason, "Error")
        XCTAssertNil(exit.startedAt)
    }

    func testExceedingTheMemoryLimitIsOOMKilled() throws {
        try skipUnlessMemoryControllerIsAvailable()
        let spec = environment.spec("hog", args: ["/bin/sh", "-c", "echo start; x=$(head -c 400000000 /dev/zero | tr '\\000' a); echo survived"],
                                    memoryBytes: 16 << 20)
        try start(spec)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id, timeout: 60))
        XCTAssertEqual(exit.reason, "OOMKilled")
        XCTAssertEqual(exit.code, 137)
        XCTAssertFalse(try log(spec).contains("survived"))
    }

    // MARK: - Signals and removal

    func testSigtermStopsAContainerThatHandlesIt() throws {
        // Process 1 of a pid namespace ignores signals it has no handler for, as in docker
        // without --init; the shell's trap is that handler.
        let spec = environment.spec("term", args: ["/bin/sh", "-c", "trap 'echo terminated; exit 143' TERM; echo ready; sleep 300 & wait"],
                                    cpuMilli: 250, memoryBytes: 64 << 20)
        try start(spec)
        guard case .running = runtime.state(id: spec.id) else { return XCTFail("\(runtime.state(id: spec.id))") }
        XCTAssertTrue(waitUntil { (try? self.log(spec))?.contains("ready") ?? false })
        try assertCgroupLimits(spec, cpuQuota: 25_000, memoryBytes: 64 << 20)

        try runtime.signal(id: spec.id, SIGTERM)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id, timeout: 20))
        XCTAssertEqual(exit.code, 143)
        XCTAssertEqual(exit.reason, "Error")
        XCTAssertTrue(try log(spec).hasSuffix("terminated\n"))
        XCTAssertNoThrow(try runtime.signal(id: spec.id, SIGKILL), "signalling an exited container is not an error")
    }

    func testSigkillStopsABareSleep() throws {
        let spec = environment.spec("sleep", args: ["sleep", "300"])
        try start(spec)
        try runtime.signal(id: spec.id, SIGKILL)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id, timeout: 20))
        XCTAssertEqual(exit.code, 128 + SIGKILL)
        XCTAssertEqual(exit.reason, "Error")
    }

    func testRemoveStopsTheContainerAndForgetsIt() throws {
        let spec = environment.spec("removed", args: ["sleep", "300"])
        try start(spec)
        let pid = try XCTUnwrap(ContainerBundle(directory: spec.bundleDirectory).containerPID())
        XCTAssertTrue(try runtime.containerIDs().contains(spec.id))

        try runtime.remove(id: spec.id)
        XCTAssertEqual(runtime.state(id: spec.id), .unknown)
        XCTAssertFalse(try runtime.containerIDs().contains(spec.id))
        XCTAssertFalse(FileManager.default.fileExists(atPath: spec.bundleDirectory))
        XCTAssertTrue(waitUntil(timeout: 10) { !RuncRuntime.isAlive(pid) }, "the container's process is gone")
        XCTAssertNoThrow(try runtime.remove(id: spec.id), "removing an unknown id is not an error")
    }

    // MARK: - Restart adoption

    func testANewRuntimeAdoptsARunningContainerAndSeesItExit() throws {
        let shared = try environment.makeDirectory("shared")
        let spec = environment.spec("adopted", args: ["/bin/sh", "-c", "while [ ! -e /shared/go ]; do sleep 0.1; done; echo done; exit 7"],
                                    mounts: [ContainerMount(source: shared, destination: "/shared")])
        try start(spec)
        guard case let .running(startedAt) = runtime.state(id: spec.id) else { return XCTFail("not running") }

        // The supervisor is neither this process's child nor in its session: it outlives it.
        let supervisor = try XCTUnwrap(ContainerBundle(directory: spec.bundleDirectory).supervisorProcessID())
        let fields = try processStatFields(supervisor)
        XCTAssertNotEqual(fields.parent, getpid())
        XCTAssertNotEqual(fields.session, getsid(0))
        // Nor does it hold any descriptor of this process (a restarted agent must be able to
        // bind its ports again): only /dev/null and its logs (the shell keeps copies at 10+).
        let bundle = ContainerBundle(directory: spec.bundleDirectory)
        for descriptor in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(supervisor)/fd") {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(supervisor)/fd/\(descriptor)")
            XCTAssertTrue(["/dev/null", bundle.supervisorLog, spec.logPath].contains(target), "fd \(descriptor) -> \(target)")
        }

        runtime = nil
        let adopter = try environment.makeRuntime()
        runtime = adopter
        XCTAssertEqual(adopter.state(id: spec.id), .running(startedAt: startedAt))
        XCTAssertTrue(try adopter.containerIDs().contains(spec.id))

        try Data().write(to: URL(fileURLWithPath: shared + "/go"))
        let exit = try XCTUnwrap(waitForExit(adopter, spec.id))
        XCTAssertEqual(exit.code, 7)
        XCTAssertEqual(exit.reason, "Error")
        XCTAssertEqual(exit.startedAt, startedAt)
        XCTAssertEqual(try log(spec), "done\n")
    }

    // MARK: - What the process sees

    func testEnvArgsWorkingDirectoryMountsAndHostnameAreVisibleInside() throws {
        let data = try environment.makeDirectory("data")
        let readOnly = try environment.makeDirectory("ro")
        try "from the host\n".write(toFile: data + "/in.txt", atomically: false, encoding: .utf8)
        let script = """
            echo "args=$0|$1"
            echo "foo=$FOO"
            echo "pwd=$(pwd)"
            echo "hostname=$(hostname) file=$(cat /etc/hostname)"
            grep -c 'my-pod' /etc/hosts
            cat /data/in.txt
            echo written > /data/out.txt
            touch /ro/x 2>/dev/null && echo ro-writable || echo ro-readonly
            touch /in-root 2>/dev/null && echo root-writable || echo root-readonly
            touch /tmp/t && echo tmp-writable
            echo "uid=$(id -u) gid=$(id -g) home=$HOME"
            """
        let spec = environment.spec(
            "env", args: ["/bin/sh", "-c", script, "first", "second arg"], env: ["PATH=/bin", "FOO=bar baz"],
            workingDirectory: "/app",
            mounts: [ContainerMount(source: data, destination: "/data"),
                     ContainerMount(source: readOnly, destination: "/ro", readOnly: true)],
            podIP: "127.0.0.1", hostname: "my-pod")
        try start(spec)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id))
        let output = try log(spec)
        XCTAssertEqual(exit.code, 0, output)
        XCTAssertEqual(output, """
            args=first|second arg
            foo=bar baz
            pwd=/app
            hostname=my-pod file=my-pod
            1
            from the host
            ro-readonly
            root-readonly
            tmp-writable
            uid=0 gid=0 home=/root

            """)
        XCTAssertEqual(try String(contentsOfFile: data + "/out.txt", encoding: .utf8), "written\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: environment.busybox.rootfs + "/in-root"))
    }

    /// runc makes it (in the shared root, before making that read-only), as docker would.
    func testAWorkingDirectoryMissingFromTheImageStillRuns() throws {
        let spec = environment.spec("cwd", args: ["/bin/sh", "-c", "pwd"], workingDirectory: "/not/in/image")
        try start(spec)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id))
        XCTAssertEqual(exit.code, 0, (try? log(spec)) ?? "")
        XCTAssertEqual(try log(spec), "/not/in/image\n")
    }

    func testTheImagesUserIsResolvedFromItsPasswd() throws {
        var image = environment.busybox
        image.config = ["User": "worker"]
        let named = environment.spec("user", args: ["/bin/sh", "-c", "echo $(id -u):$(id -g) $HOME"], image: image)
        try start(named)
        XCTAssertEqual(waitForExit(runtime, named.id)?.code, 0)
        XCTAssertEqual(try log(named), "1234:5678 /home/worker\n")

        image.config = ["User": "4000:extra"]
        let numeric = environment.spec("numeric", args: ["/bin/sh", "-c", "echo $(id -u):$(id -g)"], image: image)
        try start(numeric)
        XCTAssertEqual(waitForExit(runtime, numeric.id)?.code, 0)
        XCTAssertEqual(try log(numeric), "4000:4321\n")

        image.config = ["User": "nobody-here"]
        let unknown = environment.spec("unknown", args: ["true"], image: image)
        XCTAssertThrowsError(try start(unknown)) { error in
            XCTAssertTrue("\(error)".contains("\"nobody-here\" is not in the image's /etc/passwd"), "\(error)")
        }
    }

    func testTheContainerListensOnItsOwnLoopbackAddressInTheHostNetwork() throws {
        let address = "127.\(Int.random(in: 1...250)).\(Int.random(in: 1...250)).\(Int.random(in: 2...250))"
        let port = try XCTUnwrap(freePort(on: address))
        let site = try environment.makeDirectory("www")
        try "served from the pod\n".write(toFile: site + "/index.html", atomically: false, encoding: .utf8)
        let spec = environment.spec("web", args: ["httpd", "-f", "-p", "\(address):\(port)", "-h", "/www"],
                                    mounts: [ContainerMount(source: site, destination: "/www", readOnly: true)], podIP: address)
        try start(spec)
        var body: String?
        XCTAssertTrue(waitUntil(timeout: 20) {
            body = httpGet(host: address, port: port, path: "/index.html")
            return body != nil
        }, "nothing answered on \(address):\(port); log: \((try? log(spec)) ?? "")")
        XCTAssertEqual(body, "served from the pod\n")
        XCTAssertNil(httpGet(host: "127.0.0.1", port: port, path: "/index.html"), "it listens on its own address only")
        try runtime.signal(id: spec.id, SIGKILL)
        XCTAssertEqual(waitForExit(runtime, spec.id)?.code, 137)
    }

    func testAMissingRuncIsAClearError() {
        var options = RuncRuntime.Options()
        options.runc = "/nonexistent/runc"
        XCTAssertThrowsError(try RuncRuntime(dataDirectory: environment.dataDirectory, images: environment.images, options: options)) { error in
            guard case .runcUnavailable? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("/nonexistent/runc"), "\(error)")
            XCTAssertTrue("\(error)".contains("apt-get install runc"), "\(error)")
        }
    }

    // MARK: - Helpers

    private func skipUnlessMemoryControllerIsAvailable() throws {
        if CgroupMemoryEvents.isUnified {
            let controllers = (try? String(contentsOfFile: CgroupMemoryEvents.root + "/cgroup.subtree_control", encoding: .utf8)) ?? ""
            if !controllers.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "memory" }) {
                throw XCTSkip("the cgroup v2 memory controller is not delegated here (cgroup.subtree_control: \(controllers))")
            }
        } else if CgroupMemoryEvents.v1MemoryMount() == nil {
            throw XCTSkip("no cgroup v1 memory hierarchy is mounted")
        }
    }

    /// The limits runc applied, read from the host side of the container's cgroup.
    private func assertCgroupLimits(_ spec: ContainerSpec, cpuQuota: Int64, memoryBytes: Int64, line: UInt = #line) throws {
        let cgroup = "\(environment.cgroupParent)/\(spec.id)"
        let root = CgroupMemoryEvents.root
        if CgroupMemoryEvents.isUnified {
            XCTAssertEqual(try String(contentsOfFile: "\(root)\(cgroup)/cpu.max", encoding: .utf8), "\(cpuQuota) 100000\n", line: line)
            XCTAssertEqual(try String(contentsOfFile: "\(root)\(cgroup)/memory.max", encoding: .utf8), "\(memoryBytes)\n", line: line)
        } else {
            XCTAssertEqual(try String(contentsOfFile: "\(root)/cpu\(cgroup)/cpu.cfs_quota_us", encoding: .utf8), "\(cpuQuota)\n", line: line)
            let memory = try XCTUnwrap(CgroupMemoryEvents.v1MemoryMount())
            XCTAssertEqual(try String(contentsOfFile: "\(memory)\(cgroup)/memory.limit_in_bytes", encoding: .utf8), "\(memoryBytes)\n", line: line)
        }
    }

    /// Parent pid and session id from /proc/PID/stat.
    private func processStatFields(_ pid: pid_t) throws -> (parent: pid_t, session: pid_t) {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let afterName = try XCTUnwrap(text.range(of: ") ", options: .backwards)).upperBound
        let fields = text[afterName...].split(separator: " ")
        // state ppid pgrp session …
        return (pid_t(fields[1]) ?? -1, pid_t(fields[3]) ?? -1)
    }
}
