#if canImport(Glibc)
import Glibc
#endif

/// Opens directories of the root filesystem being built with every symbolic link on the way
/// resolved as if the root were `/` (chroot semantics): an absolute target restarts at the root,
/// `..` never climbs above it. A layer that planted `etc -> /etc` or `up -> ../../..` therefore
/// only ever leads back into the root. The last component of an entry is never resolved here:
/// callers act on it with *at() calls relative to the returned directory, without following it.
///
/// The kernel does the resolution when it can (openat2 with RESOLVE_IN_ROOT |
/// RESOLVE_NO_MAGICLINKS); otherwise, and to create missing directories, components are walked
/// one at a time, each opened with O_NOFOLLOW and symbolic links read and expanded by hand, with
/// `..` popping a stack of descriptors that starts at the root.
final class RootResolver {
    enum Strategy: Sendable {
        /// openat2 where the kernel has it, the component walk otherwise.
        case kernelWhenAvailable
        /// Always the component walk (tests use it to exercise the fallback).
        case userspace
    }

    /// At most this many symbolic links per resolution, as the kernel (MAXSYMLINKS).
    static let maximumLinks = 40

    let root: OwnedDescriptor
    let rootIdentity: FileIdentity
    /// Whether openat2 resolves paths (false: the component walk does everything).
    let usesKernel: Bool
    /// Refuse entries whose directory is reached through a symbolic link with an absolute
    /// target: in a layer from a registry that is an attempt to write into the host, even
    /// though in-root resolution would keep the write inside.
    let refusesAbsoluteLinks: Bool

    init(rootPath: String, strategy: Strategy, refusesAbsoluteLinks: Bool = false) throws {
        self.refusesAbsoluteLinks = refusesAbsoluteLinks
        let descriptor = open(rootPath, LinuxOpenFlag.path | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 {
            throw ArchiveError.io(path: rootPath, operation: "open root filesystem", errno: errno)
        }
        root = OwnedDescriptor(descriptor)
        rootIdentity = FileIdentity(try FileStatus.of(descriptor, path: rootPath))
        usesKernel = strategy == .kernelWhenAvailable && Self.kernelResolvesInRoot(descriptor)
    }

    /// Whether openat2 with RESOLVE_IN_ROOT works here (absent before Linux 5.6, and some
    /// seccomp profiles answer ENOSYS or EPERM for it).
    static func kernelResolvesInRoot(_ directory: Int32) -> Bool {
        let probe = OpenAt2.open(
            directory, ".", flags: LinuxOpenFlag.path | O_DIRECTORY | O_CLOEXEC,
            resolve: OpenAt2.resolveInRoot | OpenAt2.resolveNoMagicLinks)
        if probe < 0 { return false }
        close(probe)
        return true
    }

    /// An O_PATH descriptor of the directory `components` names. When `creating`, missing
    /// directories are made (mode 0755), wherever in-root resolution of links leads; otherwise nil
    /// when something on the way is missing or not a directory. `entry` names the archive entry
    /// in errors.
    func directory(_ components: [[UInt8]], creating: Bool, entry: String) throws -> OwnedDescriptor? {
        if components.isEmpty { return root }
        if usesKernel {
            var joined: [UInt8] = []
            for component in components {
                if !joined.isEmpty { joined.append(EntryPath.slash) }
                joined.append(contentsOf: component)
            }
            // When absolute links are refused, the kernel only takes paths without any link;
            // the component walk looks at the links.
            let noLinks = refusesAbsoluteLinks ? OpenAt2.resolveNoSymlinks : 0
            let descriptor = withCName(joined) {
                OpenAt2.open(
                    root.raw, $0, flags: LinuxOpenFlag.path | O_DIRECTORY | O_CLOEXEC,
                    resolve: OpenAt2.resolveInRoot | OpenAt2.resolveNoMagicLinks | noLinks)
            }
            if descriptor >= 0 { return OwnedDescriptor(descriptor) }
            let code = errno
            switch code {
            case ELOOP where refusesAbsoluteLinks:
                break
            case ENOENT, ENOTDIR:
                if !creating { return nil }
            case ELOOP:
                throw ArchiveError.io(path: entry, operation: "resolve the directory of", errno: code)
            default:
                // EAGAIN (a concurrent rename), ENAMETOOLONG (longer than PATH_MAX), anything
                // unexpected: the component walk decides.
                break
            }
        }
        return try walk(components, creating: creating, entry: entry)
    }

    private func walk(_ components: [[UInt8]], creating: Bool, entry: String) throws -> OwnedDescriptor? {
        var stack: [OwnedDescriptor] = [root]
        var pending: [[UInt8]] = components.reversed()
        var links = 0
        while let component = pending.popLast() {
            if component.isEmpty || component == EntryPath.dot { continue }
            if component == EntryPath.dotDot {
                if stack.count > 1 { stack.removeLast() }
                continue
            }
            let current = stack[stack.count - 1]
            var descriptor = withCName(component) {
                openat(current.raw, $0, LinuxOpenFlag.path | O_NOFOLLOW | O_CLOEXEC)
            }
            if descriptor < 0 && errno == ENOENT && creating {
                try makeDirectory(component, in: current, entry: entry)
                descriptor = withCName(component) {
                    openat(current.raw, $0, LinuxOpenFlag.path | O_NOFOLLOW | O_CLOEXEC)
                }
            }
            if descriptor < 0 {
                let code = errno
                if code == ENOENT && !creating { return nil }
                throw ArchiveError.io(path: entry, operation: "resolve the directory of", errno: code)
            }
            let handle = OwnedDescriptor(descriptor)
            let status = try FileStatus.of(descriptor, path: entry)
            switch InodeKind.of(status) {
            case InodeKind.directory:
                stack.append(handle)
            case InodeKind.symlink:
                links += 1
                if links > Self.maximumLinks {
                    throw ArchiveError.io(path: entry, operation: "resolve the directory of", errno: ELOOP)
                }
                let target = try readLink(handle, entry: entry)
                if target.isEmpty {
                    // Linux refuses to create such links; one found anyway names nothing.
                    if !creating { return nil }
                    throw ArchiveError.io(path: entry, operation: "resolve the directory of", errno: ENOENT)
                }
                if target.first == EntryPath.slash {
                    if refusesAbsoluteLinks {
                        throw ArchiveError.unsafeEntry(
                            path: entry, reason: "it is written through the symbolic link \(String(decoding: component, as: UTF8.self)) -> \(String(decoding: target, as: UTF8.self)), which points outside the layer's root")
                    }
                    // Absolute targets restart at the root filesystem, not at the host's `/`.
                    stack.removeSubrange(1...)
                }
                let parts = target.split(separator: EntryPath.slash, omittingEmptySubsequences: true)
                pending.append(contentsOf: parts.reversed().map { Array($0) })
            default:
                if !creating { return nil }
                throw ArchiveError.io(path: entry, operation: "resolve the directory of", errno: ENOTDIR)
            }
        }
        return stack[stack.count - 1]
    }

    /// A missing parent directory: mode 0755 whatever the umask, owned by whoever runs this.
    private func makeDirectory(_ name: [UInt8], in parent: OwnedDescriptor, entry: String) throws {
        let made = withCName(name) { mkdirat(parent.raw, $0, 0o755) }
        if made != 0 {
            if errno == EEXIST { return }
            throw ArchiveError.io(path: entry, operation: "create a parent directory of", errno: errno)
        }
        let descriptor = withCName(name) { openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if descriptor < 0 {
            throw ArchiveError.io(path: entry, operation: "open a parent directory of", errno: errno)
        }
        defer { close(descriptor) }
        if fchmod(descriptor, 0o755) != 0 {
            throw ArchiveError.io(path: entry, operation: "set the mode of a parent directory of", errno: errno)
        }
    }

    /// The target of the symbolic link `link` (an O_PATH | O_NOFOLLOW descriptor), as bytes.
    private func readLink(_ link: OwnedDescriptor, entry: String) throws -> [UInt8] {
        let capacity = Int(PATH_MAX) + 1
        var buffer = [CChar](repeating: 0, count: capacity)
        let count = buffer.withUnsafeMutableBufferPointer { readlinkat(link.raw, "", $0.baseAddress!, capacity) }
        if count < 0 {
            throw ArchiveError.io(path: entry, operation: "read a symbolic link on the way to", errno: errno)
        }
        if count >= capacity {
            throw ArchiveError.io(path: entry, operation: "read a symbolic link on the way to", errno: ENAMETOOLONG)
        }
        return buffer[0..<count].map { UInt8(bitPattern: $0) }
    }
}
