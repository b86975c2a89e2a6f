extension ImageUser {
    /// The image's `User` with `runAsUser`/`runAsGroup` put in its place. A uid given without a
    /// group takes its group from the image's /etc/passwd (0 when it has none), as containerd does.
    static func resolve(_ imageUser: String, security: ContainerSecurity, rootfs: String) throws -> ImageUser {
        guard security.runAsUser != nil || security.runAsGroup != nil else { return try resolve(imageUser, rootfs: rootfs) }
        let parts = imageUser.trimmingCharacters(in: .whitespaces)
            .split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let user = security.runAsUser.map(String.init) ?? (parts.first.flatMap { $0.isEmpty ? nil : $0 } ?? "0")
        let group = security.runAsGroup.map(String.init) ?? (security.runAsUser == nil && parts.count == 2 ? parts[1] : nil)
        return try resolve(group.map { "\(user):\($0)" } ?? user, rootfs: rootfs)
    }
}
