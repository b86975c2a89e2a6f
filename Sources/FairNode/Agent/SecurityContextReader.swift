import FairKube

/// Reads a container's `securityContext` and its pod's into one `ContainerSecurity`, the
/// container's fields winning, and refuses what this node will not run: privileged containers
/// unless the node allows them, runAsNonRoot for a root user, unknown capabilities and seccomp
/// profiles other than RuntimeDefault and Unconfined. Errors become CreateContainerConfigError.
struct SecurityContextReader {
    let pod: JSONValue
    let container: JSONValue
    let allowPrivileged: Bool

    private var name: String { Container(json: container).name ?? "" }

    func read() throws -> ContainerSecurity {
        let podContext = Pod(json: pod).spec.securityContext
        let own = Container(json: container).securityContext
        var security = ContainerSecurity()
        security.runAsUser = try id("runAsUser", own.runAsUser ?? podContext.runAsUser)
        security.runAsGroup = try id("runAsGroup", own.runAsGroup ?? podContext.runAsGroup)
        var groups = try podContext.supplementalGroups.compactMap { try id("supplementalGroups", $0) }
        if let fsGroup = try id("fsGroup", podContext.fsGroup), !groups.contains(fsGroup) { groups.append(fsGroup) }
        security.supplementalGroups = groups
        security.runAsNonRoot = own.runAsNonRoot ?? podContext.runAsNonRoot ?? false
        security.addCapabilities = try capabilities(own.addedCapabilities, field: "add")
        security.dropCapabilities = try capabilities(own.droppedCapabilities, field: "drop")
        security.allowPrivilegeEscalation = own.allowPrivilegeEscalation
        security.readOnlyRootFilesystem = own.readOnlyRootFilesystem ?? false
        security.privileged = own.privileged ?? false
        if security.privileged && !allowPrivileged {
            throw ContainerConfigError(message: "container \(name): privileged containers are not allowed on this node (start the server with --allow-privileged to permit them)")
        }
        let seccomp = own.seccompProfileType ?? podContext.seccompProfileType ?? "RuntimeDefault"
        switch seccomp {
        case "RuntimeDefault": security.seccompUnconfined = false
        case "Unconfined": security.seccompUnconfined = true
        default:
            throw ContainerConfigError(message: "container \(name): seccompProfile type \"\(seccomp)\" is not supported by this node (use RuntimeDefault or Unconfined)")
        }
        return security
    }

    /// kubelet's check, made where the uid is known: runAsUser, else the image's user.
    func verifyNonRoot(_ security: ContainerSecurity, image: PreparedImage) throws {
        guard security.runAsNonRoot else { return }
        if let uid = security.runAsUser {
            if uid == 0 { throw ContainerConfigError(message: "container \(name): container's runAsUser breaks non-root policy (runAsUser is 0)") }
            return
        }
        let imageUser = image.config["User"]?.stringValue ?? ""
        let user: ImageUser
        do {
            user = try ImageUser.resolve(imageUser, rootfs: image.rootfs)
        } catch {
            throw ContainerConfigError(message: "container \(name): container has runAsNonRoot and image has user \"\(imageUser)\" that cannot be verified as non-root: \(error)")
        }
        if user.uid == 0 {
            throw ContainerConfigError(message: "container \(name): container has runAsNonRoot and image will run as root (set runAsUser, or a non-root USER in the image)")
        }
    }

    private func id(_ field: String, _ value: JSONValue?) throws -> UInt32? {
        guard let value, value != .null else { return nil }
        guard let number = value.intValue, let id = UInt32(exactly: number), id != UInt32.max else {
            throw ContainerConfigError(message: "container \(name): securityContext \(field) must be an id from 0 to 4294967294, got \(value)")
        }
        return id
    }

    private func capabilities(_ value: JSONValue?, field: String) throws -> [String] {
        try (value?.arrayValue ?? []).map { entry in
            guard let text = entry.stringValue, text.uppercased() == "ALL" || ContainerCapabilities.canonical(text) != nil else {
                throw ContainerConfigError(message: "container \(name): capabilities.\(field) names \(entry), which is not a Linux capability (e.g. NET_ADMIN, or ALL)")
            }
            return text
        }
    }
}
