#if canImport(Glibc)
import Glibc
#endif

/// Applies image layers, one after the other, to a directory that becomes a container's root
/// filesystem, following the OCI image-spec rules for layer changesets: whiteouts and opaque
/// directories remove what lower layers left, an entry of another type replaces what was there
/// (a directory over a directory merges), and files keep their mode (setuid and setgid
/// included), owner and modification time.
///
/// Layers come from registries and may be hostile, so nothing is ever created, changed or removed
/// outside the root:
/// - names are cleaned: a leading `/` or `./` is dropped (`/etc/passwd` is the image's, as in
///   docker), and a `..` that would climb above the root is refused;
/// - every directory on the way to an entry, and to a hard link's target, is resolved inside the
///   root as if it were `/` (see `RootResolver`), so `etc -> /etc` written by a layer leads to the
///   image's `etc`, never the host's;
/// - the entry itself is created, replaced or removed with *at() calls relative to that directory,
///   never following a symbolic link in its place (O_NOFOLLOW, O_EXCL, AT_SYMLINK_NOFOLLOW);
/// - device nodes are refused; FIFOs and sockets are skipped.
///
/// A refused entry ends the layer with an error. Nothing is rolled back: the caller discards the
/// partly built root filesystem.
public struct LayerExtractor {
    /// The root filesystem being built; it must exist.
    public let root: String
    let strategy: RootResolver.Strategy
    /// Refuse an entry whose directory is reached through a symbolic link to an absolute path
    /// (`etc -> /etc` then `etc/passwd`). Such a write stays inside the root either way; a node
    /// running images from registries refuses it as the attempt it is.
    public let refusesAbsoluteLinks: Bool
    /// Bytes and entries this extraction may write, shared by the layers of one image.
    public var budget: ExtractionBudget?

    public init(root: String, refusesAbsoluteLinks: Bool = false) {
        self.init(root: root, strategy: .kernelWhenAvailable, refusesAbsoluteLinks: refusesAbsoluteLinks)
    }

    init(root: String, strategy: RootResolver.Strategy, refusesAbsoluteLinks: Bool = false) {
        self.root = root
        self.strategy = strategy
        self.refusesAbsoluteLinks = refusesAbsoluteLinks
    }

    /// Applies one layer (tar, tar+gzip or tar+zstd) on top of what is already in `root`, per the
    /// OCI image-spec layer rules. Returns counts for logging.
    @discardableResult
    public func apply(layerAt path: String) throws -> ExtractionSummary {
        let reader = try TarReader(path: path)
        let application = try LayerApplication(resolver: RootResolver(rootPath: root, strategy: strategy, refusesAbsoluteLinks: refusesAbsoluteLinks))
        while let entry = try reader.next() {
            if let budget {
                var size: Int64 = 0
                if case let .file(bytes) = entry.kind { size = bytes }
                try budget.spend(bytes: size, entry: entry.path)
            }
            try application.apply(entry, from: reader)
        }
        try application.finish()
        return application.summary
    }
}

/// The state of applying one layer: what it has created so far (whiteouts spare it, since they
/// only remove what lower layers left) and the directory times to set once it is complete.
final class LayerApplication {
    /// A name in a directory.
    private struct Placement: Hashable {
        let directory: FileIdentity
        let name: [UInt8]
    }

    private let resolver: RootResolver
    private(set) var summary = ExtractionSummary()
    /// Every entry this layer has written, by directory and name (never by path, which a
    /// symbolic link could spell differently).
    private var written = Set<Placement>()
    /// Every directory holding, at any depth, something this layer wrote.
    private var holdingWritten = Set<FileIdentity>()
    /// Directory times are set last: creating files inside a directory changes its mtime.
    private var directoryTimes: [(path: EntryPath, mtime: Int64, entry: String)] = []
    private let runsAsRoot = geteuid() == 0

    init(resolver: RootResolver) {
        self.resolver = resolver
    }

    func apply(_ entry: TarEntry, from reader: TarReader) throws {
        let path = try EntryPath(cleaning: entry.path, entry: entry.path)
        if path.isRoot && !entry.isDirectory {
            throw ArchiveError.unsafeEntry(path: entry.path, reason: "only a directory entry can name the root itself")
        }
        let (parentComponents, name) = path.location
        if parentComponents.contains(where: Whiteout.isReserved) {
            // Below a directory named like a whiteout, which no image can contain: never written.
            summary.skipped += 1
            return
        }
        if !path.isRoot, let whiteout = try Whiteout.classify(name, entry: entry.path) {
            try apply(whiteout, in: parentComponents, entry: entry.path)
            return
        }

        switch entry.kind {
        case .file:
            let parent = try parentDirectory(parentComponents, entry: entry.path)
            try writeFile(entry, named: name, in: parent, from: reader)
            try recordWritten(name, in: parent, entry: entry.path)
            summary.files += 1
        case .directory:
            let parent = try parentDirectory(parentComponents, entry: entry.path)
            try makeDirectory(entry, named: name, in: parent)
            try recordWritten(name, in: parent, entry: entry.path)
            directoryTimes.append((path, entry.mtime, entry.path))
            summary.directories += 1
        case let .symlink(target):
            let parent = try parentDirectory(parentComponents, entry: entry.path)
            try makeSymlink(entry, to: target, named: name, in: parent)
            try recordWritten(name, in: parent, entry: entry.path)
            summary.symlinks += 1
        case let .hardlink(target):
            // The target is checked before anything is created for the link.
            let (targetParent, targetName) = try hardlinkTarget(target, entry: entry.path)
            let parent = try parentDirectory(parentComponents, entry: entry.path)
            try makeHardlink(entry, named: name, in: parent, to: targetName, in: targetParent)
            try recordWritten(name, in: parent, entry: entry.path)
            summary.hardlinks += 1
        case let .other(fileType):
            switch fileType & InodeKind.mask {
            case InodeKind.fifo, InodeKind.socket:
                summary.skipped += 1
            case InodeKind.characterDevice, InodeKind.blockDevice:
                throw ArchiveError.unsafeEntry(
                    path: entry.path, reason: "device nodes are not allowed in image layers")
            default:
                throw ArchiveError.unsafeEntry(
                    path: entry.path, reason: "unsupported file type 0o\(String(fileType, radix: 8))")
            }
        }
    }

    /// Sets the times of the directories the layer named, now that nothing more is created in them.
    func finish() throws {
        for (path, mtime, entry) in directoryTimes {
            let (parentComponents, name) = path.location
            guard let parent = try resolver.directory(parentComponents, creating: false, entry: entry),
                  let status = try FileStatus.at(parent.raw, name, path: entry),
                  InodeKind.isDirectory(status)
            else { continue }
            let times = Self.times(mtime)
            if withCName(name, { utimensat(parent.raw, $0, times, AT_SYMLINK_NOFOLLOW) }) != 0 {
                throw ArchiveError.io(path: entry, operation: "set the modification time of", errno: errno)
            }
        }
        directoryTimes.removeAll()
    }

    // MARK: - Entries

    private func parentDirectory(_ components: [[UInt8]], entry: String) throws -> OwnedDescriptor {
        guard let parent = try resolver.directory(components, creating: true, entry: entry) else {
            throw ArchiveError.io(path: entry, operation: "create the parent directories of", errno: ENOENT)
        }
        return parent
    }

    private func writeFile(_ entry: TarEntry, named name: [UInt8], in parent: OwnedDescriptor, from reader: TarReader) throws {
        let owner = try ownership(of: entry)
        try removeExisting(name, in: parent, entry: entry.path)
        let descriptor = withCName(name) {
            openat(parent.raw, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        if descriptor < 0 { throw ArchiveError.io(path: entry.path, operation: "create", errno: errno) }
        let file = OwnedDescriptor(descriptor)
        try reader.readData(into: FileSink(fileDescriptor: file.raw, name: entry.path))
        try setOwner(owner, entry: entry.path) { fchown(file.raw, $0, $1) }
        // After the owner: changing it clears the setuid and setgid bits.
        if fchmod(file.raw, mode_t(entry.mode & 0o7777)) != 0 {
            throw ArchiveError.io(path: entry.path, operation: "set the mode of", errno: errno)
        }
        if futimens(file.raw, Self.times(entry.mtime)) != 0 {
            throw ArchiveError.io(path: entry.path, operation: "set the modification time of", errno: errno)
        }
    }

    /// A directory over a directory keeps it (and what lower layers put in it) and takes the
    /// entry's attributes; over anything else, the old path goes first.
    private func makeDirectory(_ entry: TarEntry, named name: [UInt8], in parent: OwnedDescriptor) throws {
        let owner = try ownership(of: entry)
        let existing = try FileStatus.at(parent.raw, name, path: entry.path)
        if existing.map(InodeKind.isDirectory) != true {
            if existing != nil { try TreeRemoval.remove(name, in: parent.raw, path: entry.path) }
            if withCName(name, { mkdirat(parent.raw, $0, 0o700) }) != 0 {
                throw ArchiveError.io(path: entry.path, operation: "create directory", errno: errno)
            }
        }
        let descriptor = withCName(name) {
            openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        if descriptor < 0 { throw ArchiveError.io(path: entry.path, operation: "open directory", errno: errno) }
        let directory = OwnedDescriptor(descriptor)
        try setOwner(owner, entry: entry.path) { fchown(directory.raw, $0, $1) }
        if fchmod(directory.raw, mode_t(entry.mode & 0o7777)) != 0 {
            throw ArchiveError.io(path: entry.path, operation: "set the mode of", errno: errno)
        }
    }

    /// The link is written as the layer has it, absolute or not: only the extractor's own
    /// resolution (always inside the root) ever follows it.
    private func makeSymlink(_ entry: TarEntry, to target: String, named name: [UInt8], in parent: OwnedDescriptor) throws {
        let owner = try ownership(of: entry)
        if target.utf8.contains(0) {
            throw ArchiveError.unsafeEntry(path: entry.path, reason: "symbolic link target contains a NUL byte")
        }
        try removeExisting(name, in: parent, entry: entry.path)
        if withCName(name, { symlinkat(target, parent.raw, $0) }) != 0 {
            throw ArchiveError.io(path: entry.path, operation: "create symbolic link", errno: errno)
        }
        try setOwner(owner, entry: entry.path) { uid, gid in
            withCName(name) { fchownat(parent.raw, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
        }
        if withCName(name, { utimensat(parent.raw, $0, Self.times(entry.mtime), AT_SYMLINK_NOFOLLOW) }) != 0 {
            throw ArchiveError.io(path: entry.path, operation: "set the modification time of", errno: errno)
        }
    }

    /// The directory and name of a hard link's target, which must already be in the root
    /// filesystem (written earlier by this layer or a lower one) and must not be a directory.
    private func hardlinkTarget(_ target: String, entry: String) throws -> (OwnedDescriptor, [UInt8]) {
        let path = try EntryPath(cleaning: target, entry: entry, role: "hard link target")
        if path.isRoot {
            throw ArchiveError.unsafeEntry(path: entry, reason: "hard link to the root directory")
        }
        let (parentComponents, name) = path.location
        guard let parent = try resolver.directory(parentComponents, creating: false, entry: entry),
              let status = try FileStatus.at(parent.raw, name, path: entry)
        else {
            throw ArchiveError.unsafeEntry(
                path: entry, reason: "hard link target \(target) is not in the root filesystem")
        }
        if InodeKind.isDirectory(status) {
            throw ArchiveError.unsafeEntry(path: entry, reason: "hard link target \(target) is a directory")
        }
        return (parent, name)
    }

    /// Links `name` to the target itself: a target that is a symbolic link is linked, not followed.
    /// The header's attributes are not applied: they belong to the target's inode.
    private func makeHardlink(
        _ entry: TarEntry, named name: [UInt8], in parent: OwnedDescriptor,
        to targetName: [UInt8], in targetParent: OwnedDescriptor
    ) throws {
        let here = try FileStatus.of(parent.raw, path: entry.path)
        let there = try FileStatus.of(targetParent.raw, path: entry.path)
        if FileIdentity(here) == FileIdentity(there) && name == targetName {
            return  // a link to itself: already there
        }
        try removeExisting(name, in: parent, entry: entry.path)
        let linked = withCName(targetName) { target in
            withCName(name) { linkat(targetParent.raw, target, parent.raw, $0, 0) }
        }
        if linked != 0 { throw ArchiveError.io(path: entry.path, operation: "create hard link", errno: errno) }
    }

    /// Makes room for a new non-directory entry: whatever is there goes, a whole tree included.
    /// Files are unlinked, never written over, so other hard links to them keep their contents.
    private func removeExisting(_ name: [UInt8], in parent: OwnedDescriptor, entry: String) throws {
        try TreeRemoval.remove(name, in: parent.raw, path: entry)
    }

    // MARK: - Whiteouts

    private func apply(_ whiteout: Whiteout, in directoryComponents: [[UInt8]], entry: String) throws {
        switch whiteout {
        case .bookkeeping:
            summary.skipped += 1
            return
        case .opaque:
            if let directory = try resolver.directory(directoryComponents, creating: false, entry: entry) {
                try removeLowerContent(of: directory, entry: entry)
            }
        case let .remove(victim):
            if let directory = try resolver.directory(directoryComponents, creating: false, entry: entry),
               let status = try FileStatus.at(directory.raw, victim, path: entry) {
                if isWritten(victim, status: status, in: try FileStatus.of(directory.raw, path: entry)) {
                    // Written by this layer (the marker came after it): only what lower layers
                    // left inside it goes.
                    if InodeKind.isDirectory(status) {
                        try removeLowerContent(of: try openDirectory(victim, in: directory, entry: entry), entry: entry)
                    }
                } else {
                    try TreeRemoval.remove(victim, in: directory.raw, path: entry)
                }
            }
        }
        summary.whiteouts += 1
    }

    /// Removes from `directory`, recursively, everything this layer did not write, whether the
    /// layer's entries came before or after the marker.
    private func removeLowerContent(of directory: OwnedDescriptor, entry: String, depth: Int = 0) throws {
        if depth > TreeRemoval.maximumDepth {
            throw ArchiveError.unsafeEntry(
                path: entry, reason: "empties a tree more than \(TreeRemoval.maximumDepth) directories deep")
        }
        let directoryStatus = try FileStatus.of(directory.raw, path: entry)
        for name in try TreeRemoval.names(in: directory.raw, path: entry) {
            guard let status = try FileStatus.at(directory.raw, name, path: entry) else { continue }
            if isWritten(name, status: status, in: directoryStatus) {
                if InodeKind.isDirectory(status) {
                    try removeLowerContent(
                        of: try openDirectory(name, in: directory, entry: entry), entry: entry, depth: depth + 1)
                }
            } else {
                try TreeRemoval.remove(name, in: directory.raw, path: entry, depth: depth + 1)
            }
        }
    }

    private func isWritten(_ name: [UInt8], status: stat, in directoryStatus: stat) -> Bool {
        if written.contains(Placement(directory: FileIdentity(directoryStatus), name: name)) { return true }
        return InodeKind.isDirectory(status) && holdingWritten.contains(FileIdentity(status))
    }

    private func openDirectory(_ name: [UInt8], in parent: OwnedDescriptor, entry: String) throws -> OwnedDescriptor {
        let descriptor = withCName(name) {
            openat(parent.raw, $0, LinuxOpenFlag.path | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        if descriptor < 0 { throw ArchiveError.io(path: entry, operation: "open directory", errno: errno) }
        return OwnedDescriptor(descriptor)
    }

    /// Remembers `name` in `parent` as written by this layer, and every directory from `parent`
    /// up to the root as holding something it wrote. Walking up stops at the first directory
    /// already known, so each directory is visited once per layer.
    private func recordWritten(_ name: [UInt8], in parent: OwnedDescriptor, entry: String) throws {
        var current = parent
        var identity = FileIdentity(try FileStatus.of(current.raw, path: entry))
        written.insert(Placement(directory: identity, name: name))
        while holdingWritten.insert(identity).inserted && identity != resolver.rootIdentity {
            let up = openat(current.raw, "..", LinuxOpenFlag.path | O_DIRECTORY | O_CLOEXEC)
            if up < 0 { return }
            let next = OwnedDescriptor(up)
            let nextIdentity = FileIdentity(try FileStatus.of(next.raw, path: entry))
            if nextIdentity == identity { return }  // the top of the filesystem
            current = next
            identity = nextIdentity
        }
    }

    // MARK: - Attributes

    private func ownership(of entry: TarEntry) throws -> (uid_t, gid_t) {
        // (uid_t)-1 means "leave unchanged" to chown, so it is out of range too.
        let range: Range<Int64> = 0..<Int64(UInt32.max)
        guard range.contains(entry.uid), range.contains(entry.gid) else {
            throw ArchiveError.unsafeEntry(path: entry.path, reason: "owner \(entry.uid):\(entry.gid) is out of range")
        }
        return (uid_t(entry.uid), gid_t(entry.gid))
    }

    /// Applies the owner through `change`. Without root (tests, rootless use), a refusal to give
    /// files away is expected and the files stay the caller's.
    private func setOwner(_ owner: (uid_t, gid_t), entry: String, _ change: (uid_t, gid_t) -> Int32) throws {
        if change(owner.0, owner.1) != 0 {
            if errno == EPERM && !runsAsRoot { return }
            throw ArchiveError.io(path: entry, operation: "set the owner of", errno: errno)
        }
    }

    private static func times(_ mtime: Int64) -> [timespec] {
        let time = timespec(tv_sec: Int(mtime), tv_nsec: 0)
        return [time, time]
    }
}
