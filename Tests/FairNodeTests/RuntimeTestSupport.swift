import FairKube
@testable import FairNode
import FairOCI
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What the runc tests share: the embedded registry, a busybox image pulled and unpacked through
/// a real image store, a node data directory, and a cgroup parent of their own, all removed at
/// the end (containers included, whatever a failed test left running).
final class RuntimeTestEnvironment: @unchecked Sendable {
    let directory: String
    let cgroupParent: String
    let registry: FixtureRegistry
    let images: ImageStore
    let busybox: PreparedImage

    /// Skips (with the reason) where runc cannot run containers: not root, or no runc.
    static func start() throws -> RuntimeTestEnvironment {
        guard geteuid() == 0 else { throw XCTSkip("runc tests need root") }
        guard RuncCommand.locate("runc") != nil else { throw XCTSkip("runc is not installed") }
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            throw XCTSkip("a static /bin/busybox is needed for the test image (apt-get install busybox-static)")
        }
        let registry = try FixtureRegistry.start()
        do {
            let directory = NSTemporaryDirectory() + "fair-runtime-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory + "/layers", withIntermediateDirectories: true)
            let layer = try FixtureLayers.busybox(to: directory + "/layers/busybox.tar.gz")
            var config = ImageConfig.ExecutionConfig()
            config.Env = ["PATH=/bin"]
            config.Cmd = ["/bin/sh"]
            let repository = "test/busybox-\(UUID().uuidString.prefix(8).lowercased())"
            try registry.push([layer], config: config, repository: repository, tag: "1")
            let images = try ImageStore(dataDirectory: directory + "/node")
            let busybox = try images.prepare(image: "\(registry.host)/\(repository):1", pullPolicy: "IfNotPresent")
            return RuntimeTestEnvironment(directory: directory, cgroupParent: "/fair-test-\(UUID().uuidString.prefix(8))",
                                          registry: registry, images: images, busybox: busybox)
        } catch {
            registry.stop()
            throw error
        }
    }

    private init(directory: String, cgroupParent: String, registry: FixtureRegistry, images: ImageStore, busybox: PreparedImage) {
        self.directory = directory
        self.cgroupParent = cgroupParent
        self.registry = registry
        self.images = images
        self.busybox = busybox
    }

    var dataDirectory: String { directory + "/node" }

    func makeRuntime() throws -> RuncRuntime {
        var options = RuncRuntime.Options()
        options.cgroupParent = cgroupParent
        options.tmpSizeBytes = 16 << 20
        return try RuncRuntime(dataDirectory: dataDirectory, images: images, options: options)
    }

    /// A spec for a busybox container with a unique id, its bundle and log in the data directory.
    func spec(_ name: String, args: [String], env: [String] = ["PATH=/bin"], workingDirectory: String = "/",
              mounts: [ContainerMount] = [], cpuMilli: Int64? = nil, memoryBytes: Int64? = nil,
              podIP: String = "127.0.0.1", hostname: String = "test-pod", image: PreparedImage? = nil,
              security: ContainerSecurity = ContainerSecurity()) -> ContainerSpec {
        let id = "pod\(UUID().uuidString.prefix(8).lowercased())-\(name)-0"
        return ContainerSpec(
            id: id, podUID: UUID().uuidString, podNamespace: "default", podName: "test-pod", containerName: name,
            image: image ?? busybox, args: args, env: env, workingDirectory: workingDirectory, mounts: mounts,
            cpuMilli: cpuMilli, memoryBytes: memoryBytes, podIP: podIP, hostname: hostname,
            logPath: "\(directory)/logs/\(id).log", bundleDirectory: "\(directory)/bundles/\(id)", security: security)
    }

    /// A host directory for volumes.
    func makeDirectory(_ name: String) throws -> String {
        let path = "\(directory)/volumes/\(name)-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Deletes every container runc still has here, the cgroups, the files and the registry.
    func stop() {
        let runc = RuncCommand(executable: RuncCommand.locate("runc") ?? "runc", stateRoot: dataDirectory + "/runc")
        if let listed = try? runc.run(["list", "--quiet"]) {
            for id in listed.output.split(separator: "\n") { _ = try? runc.run(["delete", "--force", String(id)]) }
        }
        removeCgroupParent()
        try? FileManager.default.removeItem(atPath: directory)
        registry.stop()
    }

    private func removeCgroupParent() {
        let root = CgroupMemoryEvents.root
        var candidates = ["\(root)\(cgroupParent)"]
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            candidates.append("\(root)/\(hierarchy)\(cgroupParent)")
        }
        for path in candidates { rmdir(path) }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: TimeInterval = 30, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    var pause: useconds_t = 5_000
    while Date() < deadline {
        if try condition() { return true }
        usleep(pause)
        pause = min(pause * 2, 100_000)
    }
    return try condition()
}

/// The final state of a container, once it has exited.
struct Exit: Equatable {
    var code: Int32
    var reason: String
    var startedAt: Date?
    var finishedAt: Date
}

func waitForExit(_ runtime: ContainerRuntime, _ id: String, timeout: TimeInterval = 30) -> Exit? {
    var result: Exit?
    _ = waitUntil(timeout: timeout) {
        if case let .exited(code, reason, startedAt, finishedAt) = runtime.state(id: id) {
            result = Exit(code: code, reason: reason, startedAt: startedAt, finishedAt: finishedAt)
            return true
        }
        return false
    }
    return result
}

/// One HTTP/1.0 GET over a plain TCP socket: the body, or nil when nothing listens.
func httpGet(host: String, port: UInt16, path: String) -> String? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8)
    guard send(descriptor, request, request.count, 0) == request.count else { return nil }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return nil }
    return String(text[split.upperBound...])
}

/// A port nothing listens on at `host` right now.
func freePort(on host: String) -> UInt16? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return nil }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return named == 0 ? UInt16(bigEndian: address.sin_port) : nil
}
