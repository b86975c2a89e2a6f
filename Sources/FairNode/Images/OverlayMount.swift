import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's overlay filesystem, as containerd's overlayfs snapshotter uses it: a stack of
/// layer directories (`lowerdir`, never written) with a writable directory over them
/// (`upperdir`, `workdir`), in which a new layer is applied (the kernel turning each removal of a
/// lower file into a whiteout in the upper one) or an image's root filesystem is assembled.
enum OverlayMount {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Mounts a writable view of `lower` (top first) with changes going to `upper`.
    static func mountWritable(lower: [String], upper: String, work: String, at target: String) throws {
        try mount(options: "lowerdir=\(try joined(lower)),upperdir=\(try checked(upper)),workdir=\(try checked(work))", at: target)
    }

    /// Detaches the mount at `target` (lazily: a process still inside keeps its view).
    static func unmount(_ target: String) {
        _ = umount2(target, Int32(MNT_DETACH))
    }

    /// True when `path` is the root of a mount (its device differs from its parent's, or the
    /// kernel lists it), so a mount already made is not made twice.
    static func isMounted(_ path: String) -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        let escaped = path.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040")
        return mounts.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == escaped
        }
    }

    /// Whether overlay mounts work under `directory` (root, a kernel with overlay, a filesystem
    /// that can hold an upper directory): tried once with empty directories.
    static func works(in directory: String) -> Bool {
        guard geteuid() == 0 else { return false }
        let probe = "\(directory)/.overlay-probe-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: probe) }
        for name in ["lower", "upper", "work", "merged"] {
            guard (try? FileManager.default.createDirectory(atPath: "\(probe)/\(name)", withIntermediateDirectories: true)) != nil else { return false }
        }
        guard (try? mountWritable(lower: ["\(probe)/lower"], upper: "\(probe)/upper", work: "\(probe)/work", at: "\(probe)/merged")) != nil else {
            return false
        }
        let whiteout = FileManager.default.createFile(atPath: "\(probe)/merged/x", contents: Data())
        unmount("\(probe)/merged")
        return whiteout
    }

    private static func mount(options: String, at target: String) throws {
        // One page holds the options: long stacks need short directory names (snapshot ids).
        guard options.utf8.count < 4000 else {
            throw Failure(description: "an overlay of \(options.split(separator: ":").count) directories is too long for one mount")
        }
        if Glibc.mount("overlay", target, "overlay", UInt(MS_NODEV), options) != 0 {
            throw Failure(description: "mount overlay at \(target): \(String(cString: strerror(errno)))")
        }
    }

    private static func joined(_ directories: [String]) throws -> String {
        try directories.map(checked).joined(separator: ":")
    }

    /// A path as the option string takes it: ':' and ',' (an image directory is named
    /// `sha256:…`) escaped with a backslash, as overlayfs reads them; a backslash or a newline
    /// in the path itself is refused.
    private static func checked(_ path: String) throws -> String {
        guard !path.contains(where: { $0 == "\\" || $0 == "\n" }) else {
            throw Failure(description: "\(path): an overlay path may not contain a backslash or a newline")
        }
        return path.replacingOccurrences(of: ":", with: "\\:").replacingOccurrences(of: ",", with: "\\,")
    }
}
