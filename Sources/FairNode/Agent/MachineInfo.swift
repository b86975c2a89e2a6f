import FairKube
import Foundation

/// What the node reports about the machine it runs on. Read once per process: a hundred fake
/// nodes in a benchmark share one machine and should not run `nvidia-smi` a hundred times.
struct MachineInfo: Sendable {
    var cpus: Int
    var memoryKiB: Int64
    var gpus: Int?
    var kernelVersion: String
    var osImage: String
    var architecture: String
    var machineID: String
    var bootID: String

    static let current = MachineInfo.detect()

    private static func detect() -> MachineInfo {
        let cpus = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let machine = field(name.machine)
        return MachineInfo(
            cpus: cpus,
            memoryKiB: memoryTotalKiB() ?? 0,
            gpus: gpuCount(),
            kernelVersion: field(name.release),
            osImage: osPrettyName() ?? "Linux",
            architecture: machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : machine,
            machineID: firstLine("/etc/machine-id") ?? "",
            bootID: firstLine("/proc/sys/kernel/random/boot_id") ?? "")
    }

    /// `MemTotal:  16318284 kB` from /proc/meminfo.
    private static func memoryTotalKiB() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
        }
        return nil
    }

    /// One line per GPU from `nvidia-smi -L`, when the command exists and succeeds.
    private static func gpuCount() -> Int? {
        guard let output = try? HostCommand.run("nvidia-smi", ["-L"]) else { return nil }
        return output.split(separator: "\n").filter { $0.hasPrefix("GPU ") }.count
    }

    private static func osPrettyName() -> String? {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    private static func firstLine(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
    }

    /// Capacity as quantities: detected, each CDI device kind's count (`devices`), then
    /// `overrides` on top. GPUs `nvidia-smi` sees count only through a CDI spec: without one a
    /// container could not be given them (see `deviceAdvice`).
    func capacity(overrides: [String: String], devices: [String: Int] = [:]) -> [String: JSONValue] {
        var capacity: [String: JSONValue] = [
            "cpu": .string(String(cpus)),
            "memory": .string("\(memoryKiB)Ki"),
            "pods": "110",
            "ephemeral-storage": .string(Self.diskKiB().map { "\($0)Ki" } ?? "0"),
        ]
        for (kind, count) in devices { capacity[kind] = .string(String(count)) }
        for (resource, value) in overrides { capacity[resource] = .string(value) }
        return capacity
    }

    /// Why GPUs this machine has are not offered, and how to fix it; nil when nothing is missing.
    func deviceAdvice(devices: [String: Int]) -> String? {
        guard let gpus, gpus > 0, devices["nvidia.com/gpu"] == nil else { return nil }
        return "\(gpus) NVIDIA GPU\(gpus == 1 ? "" : "s") found by nvidia-smi but no CDI spec describes them, so none is offered: "
            + "run `nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml` and restart the node"
    }

    private static func diskKiB() -> Int64? {
        var stats = statvfs()
        guard statvfs("/", &stats) == 0 else { return nil }
        return Int64(stats.f_blocks) * Int64(stats.f_frsize) / 1024
    }
}
