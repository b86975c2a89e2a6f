/// A container's `securityContext`, pod- and container-level merged (the container's fields
/// win, as in Kubernetes), in the terms a runtime applies.
public struct ContainerSecurity: Sendable, Equatable {
    /// Override the image's user and group (`runAsUser`, `runAsGroup`).
    public var runAsUser: UInt32?
    public var runAsGroup: UInt32?
    /// `supplementalGroups`, and `fsGroup`, which kubelet also adds to the process's groups.
    public var supplementalGroups: [UInt32] = []
    /// Refuse to run the process as uid 0.
    public var runAsNonRoot = false
    /// Capability names as the pod spells them (`NET_RAW`, `CAP_NET_RAW` or `ALL`).
    public var addCapabilities: [String] = []
    public var dropCapabilities: [String] = []
    /// nil: not set. fair then still sets no_new_privs (stricter than kubelet, which leaves it
    /// off): an explicit `true` is needed for setuid binaries to gain privileges.
    public var allowPrivilegeEscalation: Bool?
    /// Also no writable tmpfs on /tmp (the image's root is always read-only: it is shared).
    public var readOnlyRootFilesystem = false
    public var privileged = false
    /// `seccompProfile: {type: Unconfined}`; otherwise the RuntimeDefault profile applies.
    public var seccompUnconfined = false

    public init() {}
}
