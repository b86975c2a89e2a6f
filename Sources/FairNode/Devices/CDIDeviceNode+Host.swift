import Foundation

extension CDIContainerEdits.DeviceNode {
    /// A device node as a container gets it: with what the spec left out (type, major, minor,
    /// mode) read from the host's node, as the CDI reference library fills it in. A host path
    /// that is not a character, block or FIFO device is refused: a container must not be
    /// started with a "device" that is a regular file or a directory of the host.
    public struct OnHost: Sendable, Equatable {
        public var path: String
        public var type: String
        public var major: Int64
        public var minor: Int64
        public var fileMode: UInt32
        public var uid: UInt32?
        public var gid: UInt32?
        /// Cgroup access ("rwm", or "" for none).
        public var permissions: String
    }

    public func onHost() throws(CDIError) -> OnHost {
        var info = stat()
        guard stat(hostPath, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw CDIError.invalid(file: hostPath, field: "", "device node \(path): cannot read \(hostPath): \(reason)")
        }
        let hostType: String
        switch info.st_mode & S_IFMT {
        case S_IFCHR: hostType = "c"
        case S_IFBLK: hostType = "b"
        case S_IFIFO: hostType = "p"
        default: throw CDIError.invalid(file: hostPath, field: "", "device node \(path): \(hostPath) is not a device")
        }
        let rdev = UInt64(info.st_rdev)
        // glibc's major()/minor() for the 64-bit dev_t layout.
        let hostMajor = Int64(((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff))
        let hostMinor = Int64(((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff))
        let declared = type == "u" ? "c" : type  // "u" is an unbuffered character device
        if let declared, declared != hostType {
            throw CDIError.invalid(file: hostPath, field: "", "device node \(path): the spec says type \(declared), \(hostPath) is \(hostType)")
        }
        return OnHost(path: path, type: type ?? hostType, major: major ?? hostMajor, minor: minor ?? hostMinor,
                      fileMode: fileMode ?? UInt32(info.st_mode & 0o7777), uid: uid, gid: gid, permissions: permissions)
    }
}
