import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The empty directories and files runc mounts over in every container (/proc, /dev, /sys,
/// /tmp, and the generated /etc/hosts, /etc/resolv.conf, /etc/hostname). They are made once when
/// the image is unpacked, because containers get the root filesystem read-only and shared.
///
/// The root filesystem came from a registry, so its names may be symbolic links pointing
/// anywhere on the host. Nothing here follows one: each directory on the way is opened with
/// O_NOFOLLOW relative to the previous one. Where the image has a link or something else in the
/// way, the mount point is left alone; runc resolves such paths inside the root itself.
enum RuntimeMountPoints {
    static let directories: [(path: [String], mode: mode_t)] = [
        (["proc"], 0o555), (["dev"], 0o755), (["sys"], 0o555), (["tmp"], 0o1777), (["etc"], 0o755),
    ]
    static let files: [[String]] = [["etc", "hosts"], ["etc", "resolv.conf"], ["etc", "hostname"]]

    /// O_PATH (hidden from Swift's Glibc overlay behind _GNU_SOURCE); the generic Linux value.
    private static let pathOnly: Int32 = 0o10000000

    static func create(in rootfs: String) throws {
        let root = open(rootfs, pathOnly | O_DIRECTORY | O_CLOEXEC)
        if root < 0 { throw ArchiveError.io(path: rootfs, operation: "open root filesystem", errno: errno) }
        defer { close(root) }
        for (path, mode) in directories {
            guard let parent = openDirectory(path.dropLast(), in: root) else { continue }
            defer { if parent != root { close(parent) } }
            if mkdirat(parent, path[path.count - 1], mode) == 0 {
                // mkdir's mode passes through the umask; /tmp must end up world-writable and sticky.
                let made = openat(parent, path[path.count - 1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if made >= 0 {
                    fchmod(made, mode)
                    close(made)
                }
            } else if errno != EEXIST {
                throw ArchiveError.io(path: "\(rootfs)/\(path.joined(separator: "/"))", operation: "create mount point", errno: errno)
            }
        }
        for path in files {
            guard let parent = openDirectory(path.dropLast(), in: root) else { continue }
            defer { if parent != root { close(parent) } }
            let file = openat(parent, path[path.count - 1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if file >= 0 {
                close(file)
            } else if errno != EEXIST {
                throw ArchiveError.io(path: "\(rootfs)/\(path.joined(separator: "/"))", operation: "create mount point", errno: errno)
            }
        }
    }

    /// The directory `components` names below `root`, reached without following any link; nil
    /// when something other than a real directory is on the way.
    private static func openDirectory(_ components: ArraySlice<String>, in root: Int32) -> Int32? {
        var current = root
        for component in components {
            let next = openat(current, component, pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if current != root { close(current) }
            if next < 0 {
                // ENOTDIR / ELOOP: a file or a link is in the way; ENOENT: created by the caller's
                // directory list first, so only a race could get here.
                return nil
            }
            current = next
        }
        return current
    }
}
