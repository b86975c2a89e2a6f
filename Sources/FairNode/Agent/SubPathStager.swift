import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A volumeMount's `subPath`, pinned before runc sees it (the defence kubelet added for
/// CVE-2017-1002101). A container can plant a symbolic link in a volume (`ln -s /etc x`) for a
/// later container to mount with `subPath: x`; resolved as a plain path, that mount would be the
/// host's /etc. Here the path is opened beneath the volume root with openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS), so the kernel refuses any step that leaves the volume, and the
/// opened file is bind-mounted (through /proc/self/fd) onto a staging path that runc then
/// mounts: swapping the link afterwards changes nothing. Staging paths live in
/// `DATA/pods/<uid>/volume-subpaths/<volume>/<container>/<mount index>`, as kubelet's do.
struct SubPathStager {
    let directory: String

    /// O_PATH (hidden from Swift's Glibc overlay behind _GNU_SOURCE); the generic Linux value.
    private static let pathOnly: Int32 = 0o10000000

    /// The staging path now showing `subPath` of the volume at `root`. Missing directories on
    /// the way are created (also beneath the root), as kubelet does.
    func stage(volume: String, root: String, subPath: String, container: String, index: Int) throws -> String {
        let components = subPath.split(separator: "/").map(String.init).filter { $0 != "." }
        guard !subPath.hasPrefix("/"), !components.contains(".."), !components.isEmpty else {
            throw error(subPath, volume, container, "must be a relative path that stays inside the volume")
        }
        let rootDescriptor = open(root, Self.pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard rootDescriptor >= 0 else {
            throw error(subPath, volume, container, "cannot open the volume at \(root): \(String(cString: strerror(errno)))")
        }
        defer { close(rootDescriptor) }
        let target = try openBeneath(rootDescriptor, components, subPath: subPath, volume: volume, container: container)
        defer { close(target) }

        var status = stat()
        guard fstat(target, &status) == 0 else {
            throw error(subPath, volume, container, "cannot inspect it: \(String(cString: strerror(errno)))")
        }
        let isDirectory = status.st_mode & S_IFMT == S_IFDIR
        guard isDirectory || status.st_mode & S_IFMT == S_IFREG else {
            throw error(subPath, volume, container, "is neither a directory nor a regular file")
        }
        let staging = "\(directory)/\(volume)/\(container)/\(index)"
        try prepareMountPoint(staging, directory: isDirectory, subPath: subPath, volume: volume, container: container)
        guard mount("/proc/self/fd/\(target)", staging, nil, UInt(MS_BIND), nil) == 0 else {
            throw error(subPath, volume, container, "cannot bind it to \(staging): \(String(cString: strerror(errno)))")
        }
        return staging
    }

    /// An O_PATH descriptor of `components` beneath `root`, creating missing directories.
    private func openBeneath(_ root: Int32, _ components: [String], subPath: String, volume: String, container: String) throws -> Int32 {
        func attempt(_ count: Int) -> Int32 {
            let path = components[0..<count].joined(separator: "/")
            return OpenAt2.open(root, path, flags: Self.pathOnly | O_CLOEXEC,
                                resolve: OpenAt2.resolveBeneath | OpenAt2.resolveNoMagicLinks)
        }
        func failure(_ code: Int32) -> Error {
            switch code {
            case EXDEV, ELOOP:
                return error(subPath, volume, container, "leads outside the volume (through a symbolic link or ..); refusing to mount it")
            case ENOSYS, EPERM:
                return error(subPath, volume, container, "cannot be resolved safely: this kernel lacks openat2 (Linux 5.6 or later is needed for subPath)")
            default:
                return error(subPath, volume, container, "cannot be opened: \(String(cString: strerror(code)))")
            }
        }
        let descriptor = attempt(components.count)
        if descriptor >= 0 { return descriptor }
        guard errno == ENOENT else { throw failure(errno) }
        for count in 1...components.count {
            let existing = attempt(count)
            if existing >= 0 {
                close(existing)
                continue
            }
            guard errno == ENOENT else { throw failure(errno) }
            let parent = count == 1 ? dup(root) : attempt(count - 1)
            guard parent >= 0 else { throw failure(errno) }
            defer { close(parent) }
            // The parent was itself resolved beneath the root, and mkdirat does not follow a
            // final symbolic link: the new directory is inside the volume.
            if mkdirat(parent, components[count - 1], 0o755) != 0 && errno != EEXIST { throw failure(errno) }
        }
        let created = attempt(components.count)
        guard created >= 0 else { throw failure(errno) }
        return created
    }

    /// An empty directory or file at `path` with nothing mounted on it (what an earlier start
    /// of the same container left is unmounted first).
    private func prepareMountPoint(_ path: String, directory isDirectory: Bool, subPath: String, volume: String, container: String) throws {
        HostMounts.unmountAll(under: path)
        let parent = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw self.error(subPath, volume, container, "cannot create \(parent): \(error.localizedDescription)")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            if (status.st_mode & S_IFMT == S_IFDIR) == isDirectory { return }
            // Only an empty placeholder of the other kind can be here: never follow or recurse.
            if (isDirectory ? unlink(path) : rmdir(path)) != 0 {
                throw error(subPath, volume, container, "cannot replace \(path): \(String(cString: strerror(errno)))")
            }
        }
        let made = isDirectory ? mkdir(path, 0o700) : { () -> Int32 in
            let file = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if file >= 0 { close(file) }
            return file >= 0 ? 0 : -1
        }()
        if made != 0 {
            throw error(subPath, volume, container, "cannot create the mount point \(path): \(String(cString: strerror(errno)))")
        }
    }

    private func error(_ subPath: String, _ volume: String, _ container: String, _ problem: String) -> ContainerConfigError {
        ContainerConfigError(message: "container \(container): subPath \"\(subPath)\" of volume \(volume) \(problem)")
    }
}
