import FairKube
@testable import FairNode
import Foundation
import XCTest

/// A container's securityContext as the kernel applies it: read back from /proc/self/status
/// inside a container that runc really started.
final class RuntimeSecurityTests: XCTestCase {
    nonisolated(unsafe) private static var environment: RuntimeTestEnvironment?
    nonisolated(unsafe) private static var startError: Error?

    private var environment: RuntimeTestEnvironment!
    private var runtime: RuncRuntime!
    private var started: [String] = []

    /// CAP_NET_RAW's bit in CapEff.
    private static let netRaw: UInt64 = 1 << 13

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

    /// Runs `script` to completion and returns its exit code and output.
    private func run(_ name: String, _ script: String, security: ContainerSecurity = ContainerSecurity(),
                     image: PreparedImage? = nil) throws -> (code: Int32, output: String) {
        let spec = environment.spec(name, args: ["/bin/sh", "-c", script], image: image, security: security)
        started.append(spec.id)
        try runtime.start(spec)
        let exit = try XCTUnwrap(waitForExit(runtime, spec.id))
        return (exit.code, try String(contentsOfFile: spec.logPath, encoding: .utf8))
    }

    /// The fields of /proc/self/status of the container's process.
    private func status(_ name: String, security: ContainerSecurity = ContainerSecurity(), file: StaticString = #filePath,
                        line: UInt = #line) throws -> [String: String] {
        let (code, output) = try run(name, "cat /proc/self/status", security: security)
        XCTAssertEqual(code, 0, output, file: file, line: line)
        var fields: [String: String] = [:]
        for entry in output.split(separator: "\n") {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            fields[String(entry[..<colon])] = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    private func capabilities(_ fields: [String: String]) throws -> UInt64 {
        try XCTUnwrap(UInt64(fields["CapEff"] ?? "", radix: 16), "CapEff: \(fields["CapEff"] ?? "missing")")
    }

    func testByDefaultNoNetRawASeccompFilterAndNoNewPrivileges() throws {
        let fields = try status("default")
        let effective = try capabilities(fields)
        XCTAssertEqual(effective & Self.netRaw, 0, "CAP_NET_RAW only when asked for")
        XCTAssertNotEqual(effective & (1 << 0), 0, "CAP_CHOWN stays")
        XCTAssertEqual(fields["Seccomp"], "2", "the RuntimeDefault filter")
        XCTAssertEqual(fields["NoNewPrivs"], "1")
        XCTAssertEqual(fields["Uid"], "0\t0\t0\t0")
    }

    func testAddedCapabilitiesAreHeldAndDropAllHoldsNone() throws {
        var add = ContainerSecurity()
        add.addCapabilities = ["NET_RAW"]
        XCTAssertNotEqual(try capabilities(try status("netraw", security: add)) & Self.netRaw, 0)

        var none = ContainerSecurity()
        none.dropCapabilities = ["ALL"]
        XCTAssertEqual(try capabilities(try status("nocaps", security: none)), 0)
    }

    func testRunAsUserGroupAndSupplementalGroups() throws {
        var security = ContainerSecurity()
        security.runAsUser = 1000
        security.runAsGroup = 2000
        security.supplementalGroups = [3000]
        let fields = try status("user", security: security)
        XCTAssertEqual(fields["Uid"], "1000\t1000\t1000\t1000")
        XCTAssertEqual(fields["Gid"], "2000\t2000\t2000\t2000")
        XCTAssertEqual(fields["Groups"], "3000")
        XCTAssertEqual(try capabilities(fields), 0, "a non-root process keeps no capabilities across exec")
    }

    func testEscalationAllowedAndUnconfinedAreHonoured() throws {
        var security = ContainerSecurity()
        security.allowPrivilegeEscalation = true
        security.seccompUnconfined = true
        let fields = try status("loose", security: security)
        XCTAssertEqual(fields["NoNewPrivs"], "0")
        XCTAssertEqual(fields["Seccomp"], "0")
    }

    func testTheDefaultFilterRefusesNamespaceCreation() throws {
        // unshare(2) needs CAP_SYS_ADMIN in docker's profile, even for a user namespace that
        // the kernel alone would allow: EPERM from the filter.
        let (_, output) = try run("unshare", "unshare -U true 2>&1; echo status=$?")
        XCTAssertTrue(output.contains("Operation not permitted"), output)
        XCTAssertTrue(output.hasSuffix("status=1\n"), output)
    }

    func testAReadOnlyRootFilesystemHasNoWritableTmp() throws {
        var security = ContainerSecurity()
        security.readOnlyRootFilesystem = true
        let (code, output) = try run("readonly", """
            touch /written 2>/dev/null && echo root-writable || echo root-readonly
            touch /tmp/written 2>/dev/null && echo tmp-writable || echo tmp-readonly
            """, security: security)
        XCTAssertEqual(code, 0, output)
        XCTAssertEqual(output, "root-readonly\ntmp-readonly\n")
    }

    func testPrivilegedHoldsEveryCapabilityWithoutAFilter() throws {
        var security = ContainerSecurity()
        security.privileged = true
        let fields = try status("privileged", security: security)
        // Every capability the node itself may grant (its own bounding set).
        let own = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("CapBnd:") }.map { String($0.dropFirst("CapBnd:".count)).trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(try capabilities(fields), UInt64(own ?? "", radix: 16).map { $0 & ((1 << 41) - 1) })
        XCTAssertEqual(fields["Seccomp"], "0")
    }

    func testRunAsNonRootRefusesARootImage() throws {
        var security = ContainerSecurity()
        security.runAsNonRoot = true
        let spec = environment.spec("nonroot", args: ["true"], security: security)
        started.append(spec.id)
        XCTAssertThrowsError(try runtime.start(spec)) { error in
            XCTAssertTrue("\(error)".contains("runAsNonRoot and image will run as root"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ContainerBundle(directory: spec.bundleDirectory).pid), "never ran")
    }

    func testPodLogsAndTheNodesDirectoriesArePrivate() throws {
        let (code, output) = try run("modes", "echo private")
        XCTAssertEqual(code, 0, output)
        XCTAssertEqual(try mode(environment.dataDirectory), 0o700)
        XCTAssertEqual(try mode(environment.images.imagesDirectory), 0o700, "unpacked setuid binaries stay out of other users' reach")
        let logs = try FileManager.default.contentsOfDirectory(atPath: environment.directory + "/logs")
        XCTAssertFalse(logs.isEmpty)
        for log in logs { XCTAssertEqual(try mode(environment.directory + "/logs/" + log), 0o600, log) }
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o7777
    }
}
