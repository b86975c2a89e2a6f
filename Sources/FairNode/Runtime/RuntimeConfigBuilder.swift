import Foundation

/// Turns a `ContainerSpec` into the runc `config.json`: the image's shared root filesystem
/// read-only, the host's network namespace (each pod listens on its own 127.x address), private
/// pid, ipc, uts and mount namespaces, the pod's limits as cgroup resources, and its
/// securityContext: CRI-O's default capabilities as changed by the pod, no new privileges unless
/// the pod allows escalation, the RuntimeDefault seccomp profile unless it asks for Unconfined.
struct RuntimeConfigBuilder {
    /// The cgroup every container of this node goes under, e.g. `/fair/node-1`.
    var cgroupParent: String
    /// The size of the writable tmpfs on /tmp (when the pod mounts nothing there).
    var tmpSizeBytes: Int64
    /// Whether the kernel accounts swap per cgroup, so a memory limit can also forbid swapping.
    var swapAccounting: Bool
    /// The file-descriptor limit (soft and hard).
    var openFilesLimit: UInt64

    /// Kernel interfaces hidden or frozen in every container, as docker does.
    static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    static let cpuPeriod: UInt64 = 100_000

    /// The node's cgroup, which every container's is under: `/fair/NODE`.
    var parentCgroupsPath: String {
        let parent = cgroupParent.hasSuffix("/") ? String(cgroupParent.dropLast()) : cgroupParent
        return "\(parent.hasPrefix("/") ? "" : "/")\(parent)"
    }

    func cgroupsPath(for id: String) -> String {
        "\(parentCgroupsPath)/\(id)"
    }

    func config(for spec: ContainerSpec, user: ImageUser, etc: ContainerEtcFiles) throws -> OCIRuntimeConfig {
        let security = spec.security
        let capabilities = ContainerCapabilities.resolve(security)
        let groups = security.supplementalGroups.filter { $0 != user.gid }
        let process = OCIRuntimeConfig.Process(
            user: .init(uid: user.uid, gid: user.gid, additionalGids: groups.isEmpty ? nil : groups),
            args: spec.args,
            env: environment(spec, user: user),
            cwd: spec.workingDirectory.isEmpty ? "/" : (spec.workingDirectory.hasPrefix("/") ? spec.workingDirectory : "/" + spec.workingDirectory),
            capabilities: .init(bounding: capabilities, effective: capabilities, permitted: capabilities),
            rlimits: [.init(type: "RLIMIT_NOFILE", hard: openFilesLimit, soft: openFilesLimit)],
            noNewPrivileges: !security.privileged && security.allowPrivilegeEscalation != true)
        let confined = !security.privileged && !security.seccompUnconfined
        let linux = OCIRuntimeConfig.Linux(
            resources: resources(spec),
            cgroupsPath: cgroupsPath(for: spec.id),
            namespaces: ["pid", "ipc", "uts", "mount"].map { .init(type: $0) },
            maskedPaths: security.privileged ? [] : Self.maskedPaths,
            readonlyPaths: security.privileged ? [] : Self.readonlyPaths,
            seccomp: confined ? SeccompDefaultProfile.profile(capabilities: Set(capabilities)) : nil)
        var config = OCIRuntimeConfig(
            process: process,
            root: .init(path: spec.image.rootfs, readonly: true),
            hostname: spec.hostname,
            mounts: mounts(spec, etc: etc),
            linux: linux)
        try CDIApplication.apply(spec.devices, to: &config)
        return config
    }

    /// The pod's environment, plus what every container expects and runtimes always set:
    /// PATH (runc finds a bare command name through it), HOSTNAME and HOME.
    private func environment(_ spec: ContainerSpec, user: ImageUser) -> [String] {
        var env = spec.env
        func has(_ name: String) -> Bool { env.contains { $0.hasPrefix(name + "=") } }
        if !has("PATH") { env.insert("PATH=\(Self.defaultPath)", at: 0) }
        if !has("HOSTNAME") && !spec.hostname.isEmpty { env.append("HOSTNAME=\(spec.hostname)") }
        if !has("HOME") { env.append("HOME=\(user.home)") }
        return env
    }

    private func resources(_ spec: ContainerSpec) -> OCIRuntimeConfig.Resources {
        var resources = OCIRuntimeConfig.Resources(devices: [.init(allow: false, access: "rwm")])
        if let bytes = spec.memoryBytes, bytes > 0 {
            resources.memory = .init(limit: bytes, swap: swapAccounting ? bytes : nil)
        }
        if let milli = spec.cpuMilli, milli > 0 {
            // The kernel refuses quotas under 1ms.
            resources.cpu = .init(quota: max(1_000, milli * Int64(Self.cpuPeriod) / 1_000), period: Self.cpuPeriod)
        }
        return resources
    }

    private func mounts(_ spec: ContainerSpec, etc: ContainerEtcFiles) -> [OCIRuntimeConfig.Mount] {
        let podDestinations = Set(spec.mounts.map { Self.clean($0.destination) })
        var mounts: [OCIRuntimeConfig.Mount] = [
            .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            .init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/sys", type: "sysfs", source: "sysfs",
                  options: ["nosuid", "noexec", "nodev", spec.security.privileged ? "rw" : "ro"]),
        ]
        if !podDestinations.contains("/tmp") && !spec.security.readOnlyRootFilesystem {
            mounts.append(.init(destination: "/tmp", type: "tmpfs", source: "tmpfs",
                                options: ["nosuid", "nodev", "mode=1777", "size=\(tmpSizeBytes)"]))
        }
        // Parents before children, so a volume inside another volume lands on top of it.
        let podMounts = spec.mounts.enumerated().sorted { left, right in
            let (l, r) = (Self.depth(left.element.destination), Self.depth(right.element.destination))
            return l != r ? l < r : left.offset < right.offset
        }
        for (_, mount) in podMounts {
            mounts.append(.init(destination: Self.clean(mount.destination), type: "bind", source: mount.source,
                                options: ["rbind", "rprivate", mount.readOnly ? "ro" : "rw"]))
        }
        for (destination, source) in [("/etc/hosts", etc.hosts), ("/etc/resolv.conf", etc.resolvConf), ("/etc/hostname", etc.hostname)]
        where !podDestinations.contains(destination) {
            mounts.append(.init(destination: destination, type: "bind", source: source, options: ["rbind", "rprivate", "rw"]))
        }
        return mounts
    }

    /// `/a//b/` → `/a/b`; relative destinations are taken from the container's root.
    static func clean(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    private static func depth(_ path: String) -> Int {
        path.split(separator: "/").count
    }
}
