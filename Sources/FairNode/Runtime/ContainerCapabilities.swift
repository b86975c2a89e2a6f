/// The capabilities a container's process holds: CRI-O's default set, changed by the pod's
/// `capabilities.add`/`drop` the way containerd applies them (`ALL` first, then single names),
/// or every capability for a privileged container.
enum ContainerCapabilities {
    /// CRI-O's default: docker's set without CAP_NET_RAW (raw sockets let a pod forge packets
    /// on the host network it shares), CAP_MKNOD, CAP_SETFCAP, CAP_SYS_CHROOT and CAP_AUDIT_WRITE.
    static let defaults = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_KILL",
    ]

    /// Every capability Linux defines (0 through 40), in number order.
    static let all = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// `net_raw`, `NET_RAW` and `CAP_NET_RAW` all name CAP_NET_RAW; nil for a name Linux lacks.
    static func canonical(_ name: String) -> String? {
        let upper = name.uppercased()
        let full = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
        return all.contains(full) ? full : nil
    }

    /// The set for `security`, in number order.
    static func resolve(_ security: ContainerSecurity) -> [String] {
        if security.privileged { return grantable }
        let add = security.addCapabilities.map { $0.uppercased() }
        let drop = security.dropCapabilities.map { $0.uppercased() }
        var held = Set(add.contains("ALL") ? grantable : defaults)
        if drop.contains("ALL") { held = [] }
        for name in add where name != "ALL" { if let capability = canonical(name) { held.insert(capability) } }
        for name in drop where name != "ALL" { if let capability = canonical(name) { held.remove(capability) } }
        return all.filter { held.contains($0) }
    }

    /// What "every capability" can mean here: those in the node's own bounding set (a node
    /// that itself runs in a container may lack some, and runc cannot grant what it lacks).
    static let grantable: [String] = {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
              let mask = UInt64(line.dropFirst("CapBnd:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return all }
        return all.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
    }()
}
