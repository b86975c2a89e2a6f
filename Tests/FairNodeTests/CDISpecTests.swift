@testable import FairNode
import FairKube
import Foundation
import XCTest

final class CDISpecTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "cdi-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func write(_ text: String, to name: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(directory!)/\(name)"))
    }

    /// The shape `nvidia-ctk cdi generate --device-name-strategy=index --device-name-strategy=uuid`
    /// writes for two GPUs: per-device nodes, the shared control nodes and libraries at the spec
    /// level, hooks, and the `all` device.
    static let nvidiaStyle = """
        ---
        cdiVersion: 0.5.0
        kind: nvidia.com/gpu
        devices:
        - name: "0"
          containerEdits:
            deviceNodes:
            - path: /dev/nvidia0
            - path: /dev/dri/card1
            - path: /dev/dri/renderD128
        - name: "1"
          containerEdits:
            deviceNodes:
            - path: /dev/nvidia1
        - name: GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c
          containerEdits:
            deviceNodes:
            - path: /dev/nvidia0
            - path: /dev/dri/card1
            - path: /dev/dri/renderD128
        - name: all
          containerEdits:
            deviceNodes:
            - path: /dev/nvidia0
            - path: /dev/nvidia1
        containerEdits:
          env:
          - NVIDIA_VISIBLE_DEVICES=void
          deviceNodes:
          - path: /dev/nvidiactl
          - path: /dev/nvidia-uvm
          - path: /dev/nvidia-uvm-tools
          hooks:
          - hookName: createContainer
            path: /usr/bin/nvidia-ctk
            args:
            - nvidia-ctk
            - hook
            - update-ldcache
            - --folder
            - /usr/lib/x86_64-linux-gnu
          mounts:
          - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
            containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
            options:
            - ro
            - nosuid
            - nodev
            - bind
          - hostPath: /usr/bin/nvidia-smi
            containerPath: /usr/bin/nvidia-smi
            options: [ro, nosuid, nodev, bind]
        """

    func testAnNvidiaCtkSpecIsReadWithItsSharedAndPerDeviceEdits() throws {
        try write(Self.nvidiaStyle, to: "etc/nvidia.yaml")
        let spec = try CDISpec.load(path: "\(directory!)/etc/nvidia.yaml")
        XCTAssertEqual(spec.kind, "nvidia.com/gpu")
        XCTAssertEqual(spec.devices.map(\.name), ["0", "1", "GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c", "all"])
        XCTAssertEqual(spec.edits.env, ["NVIDIA_VISIBLE_DEVICES=void"])
        XCTAssertEqual(spec.edits.hooks.first?.hookName, "createContainer")
        XCTAssertEqual(spec.edits.hooks.first?.args.suffix(2), ["--folder", "/usr/lib/x86_64-linux-gnu"])
        XCTAssertEqual(spec.edits.mounts.map(\.options), [["ro", "nosuid", "nodev", "bind"], ["ro", "nosuid", "nodev", "bind"]])
        let first = try XCTUnwrap(spec.devices.first?.edits.deviceNodes.first)
        XCTAssertEqual(first.hostPath, "/dev/nvidia0", "hostPath defaults to path")
        XCTAssertEqual(first.permissions, "rwm", "permissions default to rwm")
        XCTAssertNil(first.type, "type, major and minor come from the host's node when not given")

        let registry = CDIRegistry(directories: ["\(directory!)/etc", "\(directory!)/run"])
        XCTAssertEqual(registry.problems, [])
        let gpus = try XCTUnwrap(registry.allocatable["nvidia.com/gpu"])
        XCTAssertEqual(gpus.map(\.name), ["0", "1"], "not `all`, and the UUID name of GPU 0 is the same device")
        let zero = try XCTUnwrap(registry.device("nvidia.com/gpu=0"))
        XCTAssertEqual(zero.edits.deviceNodes.map(\.path),
                       ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia0", "/dev/dri/card1", "/dev/dri/renderD128"],
                       "the spec's edits first, then the device's")
    }

    func testAJSONSpecWithEveryKindOfEdit() throws {
        try write("""
            {"cdiVersion": "0.7.0", "kind": "example.com/fpga", "devices": [{"name": "fpga0", "containerEdits": {
              "env": ["FPGA=0"],
              "deviceNodes": [{"path": "/dev/fpga0", "hostPath": "/dev/null", "type": "c", "major": 1, "minor": 3,
                               "fileMode": 438, "permissions": "rw", "uid": 1000, "gid": 1000}],
              "mounts": [{"hostPath": "/opt/fpga", "containerPath": "/opt/fpga", "type": "none", "options": ["ro", "bind"]}],
              "additionalGids": [0, 44, 44]}}]}
            """, to: "run/fpga.json")
        let spec = try CDISpec.load(path: "\(directory!)/run/fpga.json")
        let edits = try XCTUnwrap(spec.devices.first?.edits)
        XCTAssertEqual(edits.env, ["FPGA=0"])
        XCTAssertEqual(edits.deviceNodes, [.init(path: "/dev/fpga0", hostPath: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666,
                                                 permissions: "rw", uid: 1000, gid: 1000)])
        XCTAssertEqual(edits.mounts, [.init(hostPath: "/opt/fpga", containerPath: "/opt/fpga", type: "none", options: ["ro", "bind"])])
        XCTAssertEqual(edits.additionalGIDs, [44], "0 is ignored and repeats are dropped")
    }

    func testBadSpecsAreRefusedNamingTheFileAndField() throws {
        let cases: [(String, String)] = [
            (#"{"cdiVersion": "1", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"env": ["A=1"]}}]}"#, "cdiVersion: must be a version"),
            (#"{"cdiVersion": "0.6.0", "kind": "gpu", "devices": [{"name": "x", "containerEdits": {"env": ["A=1"]}}]}"#, "kind: \"gpu\": must be vendor/class"),
            (#"{"cdiVersion": "0.6.0", "kind": "Vendor.com/gpu", "devices": [{"name": "x", "containerEdits": {"env": ["A=1"]}}]}"#, "must be a DNS subdomain"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b/c", "devices": [{"name": "x", "containerEdits": {"env": ["A=1"]}}]}"#, "must be vendor/class"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": []}"#, "devices: must list at least one device"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "-x", "containerEdits": {"env": ["A=1"]}}]}"#, "devices[0].name: \"-x\""),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"env": ["A=1"]}}, {"name": "x", "containerEdits": {"env": ["A=1"]}}]}"#, "devices[1].name: \"x\" is defined twice"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x"}]}"#, "devices[0].containerEdits: device \"x\" has no edits"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"env": ["=1"]}}]}"#, "devices[0].containerEdits.env[0]: must be NAME=VALUE"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"deviceNodes": [{"path": "dev/x"}]}}]}"#, "deviceNodes[0].path: must be an absolute path"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"deviceNodes": [{"path": "/dev/x", "permissions": "rwx"}]}}]}"#, "deviceNodes[0].permissions"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"deviceNodes": [{"path": "/dev/x", "type": "z"}]}}]}"#, "deviceNodes[0].type: must be c, b, u or p"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"mounts": [{"hostPath": "/a", "containerPath": "b"}]}}]}"#, "mounts[0].containerPath: must be an absolute path"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"hooks": [{"hookName": "later", "path": "/bin/true"}]}}]}"#, "hooks[0].hookName: must be one of"),
            (#"{"cdiVersion": "0.6.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"hooks": [{"hookName": "poststop", "path": "/bin/true", "timeout": 0}]}}]}"#, "hooks[0].timeout: must be more than 0"),
            (#"{"cdiVersion": "0.7.0", "kind": "a.com/b", "devices": [{"name": "x", "containerEdits": {"intelRdt": {"closID": "c"}}}]}"#, "containerEdits.intelRdt: is not supported by this node"),
            ("a: [", "not valid YAML"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let name = "bad\(index).json"
            try write(text, to: name)
            XCTAssertThrowsError(try CDISpec.load(path: "\(directory!)/\(name)"), "case \(index)") { error in
                let message = (error as? CDIError)?.description ?? "\(error)"
                XCTAssertTrue(message.contains(expected) && message.contains(name), "case \(index): \(message)")
            }
        }
    }

    func testLaterDirectoriesOverrideConflictsAreDroppedAndBadFilesSkipped() throws {
        func spec(_ kind: String, _ name: String, env: String) -> String {
            #"{"cdiVersion": "0.6.0", "kind": "\#(kind)", "devices": [{"name": "\#(name)", "containerEdits": {"env": ["\#(env)"]}}]}"#
        }
        try write(spec("example.com/dev", "a", env: "FROM=etc"), to: "etc/1.json")
        try write(spec("example.com/dev", "b", env: "FROM=etc"), to: "etc/2.json")
        try write(spec("example.com/dev", "b", env: "FROM=etc-again"), to: "etc/3.yaml")
        try write(spec("example.com/dev", "a", env: "FROM=run"), to: "run/1.json")
        try write("{not json", to: "run/broken.json")
        try write(spec("example.com/dev", "c", env: "X=1"), to: "run/ignored.txt")
        let registry = CDIRegistry(directories: ["\(directory!)/etc", "\(directory!)/run", "\(directory!)/missing"])
        XCTAssertEqual(registry.device("example.com/dev=a")?.edits.env, ["FROM=run"], "/var/run/cdi overrides /etc/cdi")
        XCTAssertNil(registry.device("example.com/dev=b"), "defined twice in one directory: neither is used")
        XCTAssertNil(registry.device("example.com/dev=c"), "only .json, .yaml and .yml files are specs")
        XCTAssertEqual(registry.problems.count, 2)
        XCTAssertTrue(registry.problems.contains { $0.contains("example.com/dev=b") && $0.contains("2.json") && $0.contains("3.yaml") })
        XCTAssertTrue(registry.problems.contains { $0.contains("broken.json") })
        XCTAssertEqual(registry.allocatable["example.com/dev"]?.map(\.name), ["a"])
    }
}

final class DeviceAllocationsTests: XCTestCase {
    private func devices(_ kind: String, _ names: [String]) -> [String: [CDIRegistry.ResolvedDevice]] {
        var edits = CDIContainerEdits()
        edits.env = ["X=1"]
        return [kind: names.map { CDIRegistry.ResolvedDevice(kind: kind, name: $0, edits: edits, file: "/etc/cdi/x.json") }]
    }

    func testDevicesAreExclusiveStableAndSurviveARestart() throws {
        let path = NSTemporaryDirectory() + "devices-\(UUID().uuidString)/checkpoint.json"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let available = devices("example.com/dev", ["d0", "d1"])
        let allocations = DeviceAllocations(path: path)
        let first = try allocations.allocate(pod: "p1", container: "main", requests: ["example.com/dev": 1], available: available)
        let second = try allocations.allocate(pod: "p2", container: "main", requests: ["example.com/dev": 1], available: available)
        XCTAssertEqual(first, ["example.com/dev=d0"])
        XCTAssertEqual(second, ["example.com/dev=d1"], "a device held by a live pod is not handed out again")
        XCTAssertEqual(try allocations.allocate(pod: "p1", container: "main", requests: ["example.com/dev": 1], available: available), first,
                       "a restarted container gets the same device")
        XCTAssertThrowsError(try allocations.allocate(pod: "p3", container: "main", requests: ["example.com/dev": 1], available: available)) { error in
            XCTAssertEqual(error as? DeviceAllocations.Insufficient, .init(kind: "example.com/dev", requested: 1, free: 0))
            XCTAssertEqual("\(error)", "Insufficient example.com/dev: 1 requested, 0 free on this node")
        }
        XCTAssertEqual(try allocations.allocate(pod: "p4", container: "main", requests: [:], available: available), [])

        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let restarted = DeviceAllocations(path: path)
        XCTAssertEqual(restarted.byPod, ["p1": ["main": ["example.com/dev=d0"]], "p2": ["main": ["example.com/dev=d1"]]])
        XCTAssertEqual(restarted.used(), ["example.com/dev": 2])
        try restarted.retain(pods: ["p2"])
        XCTAssertEqual(try restarted.allocate(pod: "p3", container: "main", requests: ["example.com/dev": 1], available: available),
                       ["example.com/dev=d0"], "what a pod gone during the restart held is free again")
        try restarted.release(pod: "p2")
        XCTAssertEqual(DeviceAllocations(path: path).byPod, ["p3": ["main": ["example.com/dev=d0"]]])
    }

    func testTwoContainersOfOnePodGetDifferentDevices() throws {
        let allocations = DeviceAllocations(path: nil)
        let available = devices("example.com/dev", ["d0", "d1", "d2"])
        XCTAssertEqual(try allocations.allocate(pod: "p", container: "a", requests: ["example.com/dev": 2], available: available),
                       ["example.com/dev=d0", "example.com/dev=d1"])
        XCTAssertEqual(try allocations.allocate(pod: "p", container: "b", requests: ["example.com/dev": 1], available: available),
                       ["example.com/dev=d2"])
    }
}

final class CDIDeviceNodeHostTests: XCTestCase {
    func testWhatTheSpecLeavesOutIsReadFromTheHostsNode() throws {
        let node = CDIContainerEdits.DeviceNode(path: "/dev/fake0", hostPath: "/dev/null", type: nil, major: nil, minor: nil,
                                                fileMode: nil, permissions: "rw", uid: nil, gid: nil)
        let onHost = try node.onHost()
        XCTAssertEqual(onHost.path, "/dev/fake0")
        XCTAssertEqual([onHost.type, String(onHost.major), String(onHost.minor)], ["c", "1", "3"], "/dev/null is c 1:3")
        XCTAssertEqual(onHost.fileMode, 0o666)
        XCTAssertEqual(onHost.permissions, "rw")
    }

    func testANodeThatIsNotADeviceOrOfAnotherTypeIsRefused() throws {
        let plain = NSTemporaryDirectory() + "not-a-device-\(UUID().uuidString)"
        try Data("x".utf8).write(to: URL(fileURLWithPath: plain))
        defer { unlink(plain) }
        let file = CDIContainerEdits.DeviceNode(path: "/dev/x", hostPath: plain, type: nil, major: nil, minor: nil,
                                                fileMode: nil, permissions: "rwm", uid: nil, gid: nil)
        XCTAssertThrowsError(try file.onHost()) { XCTAssertTrue("\($0)".contains("is not a device"), "\($0)") }
        let block = CDIContainerEdits.DeviceNode(path: "/dev/x", hostPath: "/dev/null", type: "b", major: nil, minor: nil,
                                                 fileMode: nil, permissions: "rwm", uid: nil, gid: nil)
        XCTAssertThrowsError(try block.onHost()) { XCTAssertTrue("\($0)".contains("the spec says type b"), "\($0)") }
        let missing = CDIContainerEdits.DeviceNode(path: "/dev/x", hostPath: "/dev/no-such-device", type: nil, major: nil, minor: nil,
                                                   fileMode: nil, permissions: "rwm", uid: nil, gid: nil)
        XCTAssertThrowsError(try missing.onHost()) { XCTAssertTrue("\($0)".contains("cannot read /dev/no-such-device"), "\($0)") }
    }
}

final class DeviceCapacityTests: XCTestCase {
    private func machine(gpus: Int?) -> MachineInfo {
        MachineInfo(cpus: 4, memoryKiB: 1024, gpus: gpus, kernelVersion: "6", osImage: "Debian", architecture: "amd64", machineID: "m", bootID: "b")
    }

    func testDeviceKindsAreCountedFromSpecsNotFromNvidiaSmi() {
        let withSpec = machine(gpus: 2).capacity(overrides: [:], devices: ["nvidia.com/gpu": 2, "example.com/fpga": 1])
        XCTAssertEqual(withSpec["nvidia.com/gpu"], "2")
        XCTAssertEqual(withSpec["example.com/fpga"], "1")
        XCTAssertNil(machine(gpus: 2).deviceAdvice(devices: ["nvidia.com/gpu": 2]))

        let withoutSpec = machine(gpus: 2)
        XCTAssertNil(withoutSpec.capacity(overrides: [:], devices: [:])["nvidia.com/gpu"], "GPUs no CDI spec describes are not offered")
        let advice = withoutSpec.deviceAdvice(devices: [:])
        XCTAssertEqual(advice?.contains("2 NVIDIA GPUs found by nvidia-smi but no CDI spec"), true)
        XCTAssertEqual(advice?.contains("nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml"), true)
        XCTAssertNil(machine(gpus: nil).deviceAdvice(devices: [:]))

        XCTAssertEqual(machine(gpus: nil).capacity(overrides: ["nvidia.com/gpu": "1"], devices: [:])["nvidia.com/gpu"], "1",
                       "a fake node's override stays")
    }
}
