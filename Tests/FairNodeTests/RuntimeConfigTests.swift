import FairKube
@testable import FairNode
import Foundation
import XCTest

/// The runc config.json for a spec, as JSON (what runc reads), without running anything.
final class RuntimeConfigTests: XCTestCase {
    private let builder = RuntimeConfigBuilder(cgroupParent: "/fair/node-1", tmpSizeBytes: 1 << 20, swapAccounting: true,
                                               openFilesLimit: 4096)
    private let etc = ContainerEtcFiles(directory: "/bundle/etc")

    private func spec(mounts: [ContainerMount] = [], cpuMilli: Int64? = 1500, memoryBytes: Int64? = 256 << 20,
                      env: [String] = ["A=1"], workingDirectory: String = "work", security: ContainerSecurity = ContainerSecurity()) -> ContainerSpec {
        ContainerSpec(
            id: "uid-main-0", podUID: "uid", podNamespace: "ns", podName: "pod", containerName: "main",
            image: PreparedImage(reference: "r", digest: "sha256:x", rootfs: "/images/x/rootfs", config: [:]),
            args: ["/bin/app", "--flag"], env: env, workingDirectory: workingDirectory, mounts: mounts,
            cpuMilli: cpuMilli, memoryBytes: memoryBytes, podIP: "127.0.0.9", hostname: "pod",
            logPath: "/logs/x.log", bundleDirectory: "/bundle", security: security)
    }

    private func json(_ spec: ContainerSpec, user: ImageUser = .root) throws -> JSONValue {
        let encoder = JSONEncoder()
        return try JSONCoding.decode(try encoder.encode(builder.config(for: spec, user: user, etc: etc)))
    }

    func testSharedReadOnlyRootHostNetworkAndLimits() throws {
        let config = try json(spec())
        XCTAssertEqual(config.value(at: "root.path"), "/images/x/rootfs")
        XCTAssertEqual(config.value(at: "root.readonly"), true)
        XCTAssertEqual(config["hostname"], "pod")
        let namespaces = config.value(at: "linux.namespaces")?.arrayValue?.compactMap { $0["type"]?.stringValue }
        XCTAssertEqual(namespaces, ["pid", "ipc", "uts", "mount"], "no network namespace: pods use the host's")
        XCTAssertEqual(config.value(at: "linux.cgroupsPath"), "/fair/node-1/uid-main-0")
        XCTAssertEqual(config.value(at: "linux.resources.cpu.quota"), 150_000)
        XCTAssertEqual(config.value(at: "linux.resources.cpu.period"), 100_000)
        XCTAssertEqual(config.value(at: "linux.resources.memory.limit"), .int(256 << 20))
        XCTAssertEqual(config.value(at: "linux.resources.memory.swap"), .int(256 << 20), "no swapping past the limit")
        XCTAssertEqual(config.value(at: "process.noNewPrivileges"), true)
        XCTAssertEqual(config.value(at: "process.terminal"), false)
        XCTAssertEqual(config.value(at: "process.args"), ["/bin/app", "--flag"])
        XCTAssertEqual(config.value(at: "process.cwd"), "/work")
        XCTAssertEqual(config.value(at: "process.env"), [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1", "HOSTNAME=pod", "HOME=/root",
        ])
        XCTAssertEqual(config.value(at: "process.rlimits"), [["type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096]])
        let capabilities = config.value(at: "process.capabilities.bounding")?.arrayValue ?? []
        XCTAssertEqual(Set(capabilities.compactMap(\.stringValue)), [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_KILL",
        ], "CRI-O's default set: no CAP_NET_RAW unless the pod asks")
        XCTAssertEqual(config.value(at: "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO")
        XCTAssertFalse(capabilities.contains("CAP_SYS_ADMIN"))
        XCTAssertTrue(config.value(at: "linux.maskedPaths")?.arrayValue?.contains("/proc/kcore") ?? false)
        XCTAssertEqual(config.value(at: "linux.resources.devices"), [["allow": false, "access": "rwm"]])
    }

    func testNoLimitsMeansNoCgroupResources() throws {
        let config = try json(spec(cpuMilli: nil, memoryBytes: nil))
        XCTAssertNil(config.value(at: "linux.resources.cpu"))
        XCTAssertNil(config.value(at: "linux.resources.memory"))
        XCTAssertEqual(try json(spec(cpuMilli: 1)).value(at: "linux.resources.cpu.quota"), 1_000, "the kernel's minimum quota")
    }

    func testMountsKernelFilesystemsThenTmpThenVolumesParentsFirstThenEtcFiles() throws {
        let config = try json(spec(mounts: [
            ContainerMount(source: "/v/inner", destination: "/data/inner", readOnly: true),
            ContainerMount(source: "/v/data", destination: "/data/"),
        ]))
        let mounts = try XCTUnwrap(config["mounts"]?.arrayValue)
        XCTAssertEqual(mounts.compactMap { $0["destination"]?.stringValue }, [
            "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/tmp", "/data", "/data/inner",
            "/etc/hosts", "/etc/resolv.conf", "/etc/hostname",
        ])
        XCTAssertEqual(mounts[6]["options"], ["nosuid", "nodev", "mode=1777", "size=1048576"])
        XCTAssertEqual(mounts[7], ["destination": "/data", "type": "bind", "source": "/v/data", "options": ["rbind", "rprivate", "rw"]])
        XCTAssertEqual(mounts[8]["options"], ["rbind", "rprivate", "ro"])
        XCTAssertEqual(mounts[5]["options"], ["nosuid", "noexec", "nodev", "ro"], "/sys is read-only")
        XCTAssertEqual(mounts[9]["source"], "/bundle/etc/hosts")
    }

    func testAPodVolumeOnTmpOrAnEtcFileReplacesTheDefault() throws {
        let config = try json(spec(mounts: [
            ContainerMount(source: "/pod/tmp", destination: "/tmp"),
            ContainerMount(source: "/pod/hosts", destination: "/etc/hosts"),
        ]))
        let mounts = try XCTUnwrap(config["mounts"]?.arrayValue)
        XCTAssertEqual(mounts.filter { $0["destination"] == "/tmp" }.map { $0["source"] }, ["/pod/tmp"])
        XCTAssertEqual(mounts.filter { $0["destination"] == "/etc/hosts" }.map { $0["source"] }, ["/pod/hosts"])
    }

    func testThePodsEnvironmentWinsAndAUsersHomeIsUsed() throws {
        let config = try json(spec(env: ["PATH=/opt/bin", "HOME=/data"]), user: ImageUser(uid: 1000, gid: 1000, home: "/home/u"))
        XCTAssertEqual(config.value(at: "process.env"), ["PATH=/opt/bin", "HOME=/data", "HOSTNAME=pod"])
        XCTAssertEqual(config.value(at: "process.user.uid"), 1000)
        let other = try json(spec(env: []), user: ImageUser(uid: 1000, gid: 1000, home: "/home/u"))
        XCTAssertTrue(other.value(at: "process.env")?.arrayValue?.contains("HOME=/home/u") ?? false)
    }

    func testEtcFilesNameThePodAndCopyTheHostResolver() throws {
        let directory = NSTemporaryDirectory() + "fair-etc-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "nameserver 10.0.0.53\n".write(toFile: directory + "/host-resolv.conf", atomically: false, encoding: .utf8)
        let files = ContainerEtcFiles(directory: directory + "/etc")
        try files.write(hostname: "web-1", podIP: "127.0.3.4", hostResolvConf: directory + "/host-resolv.conf")
        XCTAssertEqual(try String(contentsOfFile: files.hostname, encoding: .utf8), "web-1\n")
        XCTAssertEqual(try String(contentsOfFile: files.resolvConf, encoding: .utf8), "nameserver 10.0.0.53\n")
        let hosts = try String(contentsOfFile: files.hosts, encoding: .utf8)
        XCTAssertTrue(hosts.hasPrefix("127.0.0.1\tlocalhost\n"), hosts)
        XCTAssertTrue(hosts.hasSuffix("127.0.3.4\tweb-1\n"), hosts)
    }

    func testSecurityContextChangesCapabilitiesSeccompPrivilegesAndTmp() throws {
        var security = ContainerSecurity()
        security.addCapabilities = ["NET_RAW", "cap_sys_time"]
        security.dropCapabilities = ["CHOWN"]
        security.allowPrivilegeEscalation = true
        security.seccompUnconfined = true
        security.readOnlyRootFilesystem = true
        security.supplementalGroups = [3000, 4000]
        let config = try json(spec(security: security), user: ImageUser(uid: 1000, gid: 2000, home: "/"))
        let capabilities = config.value(at: "process.capabilities.effective")?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertTrue(capabilities.contains("CAP_NET_RAW"))
        XCTAssertTrue(capabilities.contains("CAP_SYS_TIME"))
        XCTAssertFalse(capabilities.contains("CAP_CHOWN"))
        XCTAssertEqual(config.value(at: "process.noNewPrivileges"), false)
        XCTAssertNil(config.value(at: "linux.seccomp"))
        XCTAssertFalse(config["mounts"]?.arrayValue?.contains { $0["destination"] == "/tmp" } ?? true, "no writable /tmp on a read-only root")
        XCTAssertEqual(config.value(at: "process.user"), ["uid": 1000, "gid": 2000, "additionalGids": [3000, 4000]])

        var all = ContainerSecurity()
        all.addCapabilities = ["ALL"]
        all.dropCapabilities = ["NET_ADMIN"]
        let allConfig = try json(spec(security: all))
        XCTAssertEqual(allConfig.value(at: "process.capabilities.bounding")?.arrayValue?.count,
                       ContainerCapabilities.grantable.filter { $0 != "CAP_NET_ADMIN" }.count)
        var none = ContainerSecurity()
        none.dropCapabilities = ["ALL"]
        none.addCapabilities = ["KILL"]
        XCTAssertEqual(try json(spec(security: none)).value(at: "process.capabilities.permitted"), ["CAP_KILL"])
    }

    func testTheDefaultSeccompProfileFollowsTheCapabilities() throws {
        let plain = try json(spec()).value(at: "linux.seccomp")
        let rules = plain?["syscalls"]?.arrayValue ?? []
        let allowed = Set(rules.filter { $0["action"] == "SCMP_ACT_ALLOW" && $0["args"] == nil }.flatMap { $0["names"]?.arrayValue ?? [] })
        XCTAssertTrue(allowed.contains("read"))
        XCTAssertFalse(allowed.contains("mount"), "mount needs CAP_SYS_ADMIN")
        XCTAssertFalse(allowed.contains("clone"), "clone is allowed only without namespace flags")
        XCTAssertTrue(rules.contains { $0["names"] == ["clone3"] && $0["errnoRet"] == 38 })
        XCTAssertEqual(plain?["defaultErrnoRet"], 1)

        var admin = ContainerSecurity()
        admin.addCapabilities = ["SYS_ADMIN"]
        let adminRules = try json(spec(security: admin)).value(at: "linux.seccomp.syscalls")?.arrayValue ?? []
        XCTAssertTrue(adminRules.contains { $0["names"]?.arrayValue?.contains("mount") ?? false })
        XCTAssertFalse(adminRules.contains { $0["names"] == ["clone3"] })
    }

    func testPrivilegedGetsEverythingAndNoFilter() throws {
        var security = ContainerSecurity()
        security.privileged = true
        let config = try json(spec(security: security))
        XCTAssertEqual(config.value(at: "process.capabilities.bounding")?.arrayValue?.count, ContainerCapabilities.grantable.count)
        XCTAssertNil(config.value(at: "linux.seccomp"))
        XCTAssertEqual(config.value(at: "linux.maskedPaths"), [])
        XCTAssertEqual(config.value(at: "process.noNewPrivileges"), false)
    }
}

/// CDI devices in the runc config: nodes with their cgroup rules, mounts, environment, hooks, groups.
final class CDIApplicationTests: XCTestCase {
    /// The spec as nvidia-ctk writes it, applied for GPU 1: the nodes are this fixture's, so the
    /// host's part (type and numbers) comes from the numbers NVIDIA's driver gives them.
    func testAnNvidiaCtkSpecIsAppliedForOneGPU() throws {
        let directory = NSTemporaryDirectory() + "cdi-nvidia-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(CDISpecTests.nvidiaStyle.utf8).write(to: URL(fileURLWithPath: directory + "/nvidia.yaml"))
        let registry = CDIRegistry(directories: [directory])
        let gpu = try XCTUnwrap(registry.device("nvidia.com/gpu=1"))
        let numbers: [String: (Int64, Int64)] = ["/dev/nvidiactl": (195, 255), "/dev/nvidia-uvm": (509, 0), "/dev/nvidia-uvm-tools": (509, 1),
                                                 "/dev/nvidia0": (195, 0), "/dev/nvidia1": (195, 1)]
        var config = OCIRuntimeConfig(
            process: .init(user: .init(uid: 0, gid: 0, additionalGids: nil), args: ["python3"], env: ["PATH=/bin"], cwd: "/",
                           capabilities: .init(bounding: [], effective: [], permitted: []), rlimits: []),
            root: .init(path: "/rootfs", readonly: true), hostname: "h", mounts: [],
            linux: .init(resources: .init(devices: [.init(allow: false, access: "rwm")]), cgroupsPath: "/fair/x", namespaces: [],
                         maskedPaths: [], readonlyPaths: [], seccomp: nil))
        try CDIApplication.apply([gpu], to: &config) { node in
            let (major, minor) = try XCTUnwrap(numbers[node.hostPath])
            return .init(path: node.path, type: "c", major: major, minor: minor, fileMode: 0o666, uid: nil, gid: nil, permissions: node.permissions)
        }
        XCTAssertEqual(config.linux.devices?.map(\.path), ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia1"],
                       "GPU 1 alone, with the shared control nodes")
        XCTAssertEqual(config.linux.resources.devices.dropFirst().map { "\($0.major ?? -1):\($0.minor ?? -1)" }, ["195:255", "509:0", "509:1", "195:1"])
        XCTAssertTrue(config.linux.resources.devices.dropFirst().allSatisfy { $0.allow && $0.access == "rwm" && $0.type == "c" })
        XCTAssertEqual(config.process.env, ["PATH=/bin", "NVIDIA_VISIBLE_DEVICES=void"])
        XCTAssertEqual(config.mounts.map(\.destination), ["/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", "/usr/bin/nvidia-smi"])
        XCTAssertEqual(config.mounts.first?.type, "bind")
        XCTAssertEqual(config.mounts.first?.options, ["ro", "nosuid", "nodev", "bind"])
        XCTAssertEqual(config.hooks?.createContainer?.first?.path, "/usr/bin/nvidia-ctk")
        XCTAssertEqual(config.hooks?.createContainer?.first?.args, ["nvidia-ctk", "hook", "update-ldcache", "--folder", "/usr/lib/x86_64-linux-gnu"])
    }

    func testTwoDevicesOfOneSpecApplyTheSpecsEditsOnceAndEachDevicesOwn() throws {
        let text = """
            {"cdiVersion": "0.6.0", "kind": "example.com/dev",
             "containerEdits": {"env": ["SHARED=1"], "deviceNodes": [{"path": "/dev/example-ctl", "hostPath": "/dev/null"}],
                                "hooks": [{"hookName": "createContainer", "path": "/usr/bin/true", "args": ["true", "x"]}],
                                "mounts": [{"hostPath": "/opt/lib", "containerPath": "/usr/lib/example", "options": ["ro", "bind"]}]},
             "devices": [
               {"name": "d0", "containerEdits": {"env": ["VISIBLE=d0"], "additionalGids": [44],
                                                 "deviceNodes": [{"path": "/dev/example0", "hostPath": "/dev/null", "permissions": "rw"}]}},
               {"name": "d1", "containerEdits": {"env": ["VISIBLE=d1"],
                                                 "deviceNodes": [{"path": "/dev/example1", "hostPath": "/dev/zero", "permissions": "none"}]}}]}
            """
        let spec = try CDISpec(json: try JSONCoding.decode(Data(text.utf8)), file: "/etc/cdi/example.json")
        let devices = spec.devices.map {
            CDIRegistry.ResolvedDevice(kind: spec.kind, name: $0.name, edits: spec.edits.appending($0.edits), file: spec.file)
        }
        var config = OCIRuntimeConfig(
            process: .init(user: .init(uid: 0, gid: 0, additionalGids: nil), args: ["sh"], env: ["PATH=/bin", "VISIBLE=pod"], cwd: "/",
                           capabilities: .init(bounding: [], effective: [], permitted: []), rlimits: []),
            root: .init(path: "/rootfs", readonly: true), hostname: "h", mounts: [],
            linux: .init(resources: .init(devices: [.init(allow: false, access: "rwm")]), cgroupsPath: "/fair/x", namespaces: [],
                         maskedPaths: [], readonlyPaths: [], seccomp: nil))
        try CDIApplication.apply(devices, to: &config)

        XCTAssertEqual(config.linux.devices?.map(\.path), ["/dev/example-ctl", "/dev/example0", "/dev/example1"], "the shared node once")
        XCTAssertEqual(config.linux.devices?.first, .init(path: "/dev/example-ctl", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: nil, gid: nil))
        XCTAssertEqual(config.linux.devices?.last?.minor, 5, "/dev/zero is c 1:5")
        XCTAssertEqual(config.linux.resources.devices, [
            .init(allow: false, access: "rwm"),
            .init(allow: true, access: "rwm", type: "c", major: 1, minor: 3),
            .init(allow: true, access: "rw", type: "c", major: 1, minor: 3),
        ], "deny all first; `none` adds no rule")
        XCTAssertEqual(config.process.env, ["PATH=/bin", "SHARED=1", "VISIBLE=d1"], "a device's value replaces the pod's and the earlier device's")
        XCTAssertEqual(config.mounts, [.init(destination: "/usr/lib/example", type: "bind", source: "/opt/lib", options: ["ro", "bind"])])
        XCTAssertEqual(config.hooks?.createContainer, [.init(path: "/usr/bin/true", args: ["true", "x"], env: nil, timeout: nil)])
        XCTAssertNil(config.hooks?.prestart)
        XCTAssertEqual(config.process.user.additionalGids, [44])
    }

    func testNoDevicesChangeNothingAndAMissingHostNodeFails() throws {
        let base = OCIRuntimeConfig(
            process: .init(user: .init(uid: 0, gid: 0, additionalGids: nil), args: ["sh"], env: [], cwd: "/",
                           capabilities: .init(bounding: [], effective: [], permitted: []), rlimits: []),
            root: .init(path: "/rootfs", readonly: true), hostname: "h", mounts: [],
            linux: .init(resources: .init(devices: []), cgroupsPath: "/x", namespaces: [], maskedPaths: [], readonlyPaths: [], seccomp: nil))
        var config = base
        try CDIApplication.apply([], to: &config)
        XCTAssertEqual(config, base)
        var edits = CDIContainerEdits()
        edits.deviceNodes = [.init(path: "/dev/gone", hostPath: "/dev/fair-no-such-device", type: nil, major: nil, minor: nil,
                                   fileMode: nil, permissions: "rwm", uid: nil, gid: nil)]
        XCTAssertThrowsError(try CDIApplication.apply([.init(kind: "example.com/dev", name: "x", edits: edits, file: "/f")], to: &config))
    }
}
