import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Pod addresses claimed host-wide, so that two nodes on one machine (two `fair server`s, or a
/// server and a `fair node` on overlapping ranges) never hand out the same loopback address:
/// pods share the host's network, and a second pod on a taken address would answer for the first
/// (a readiness probe passes against the other pod; requests for one go to the other).
///
/// Each claim is an open-file-description lock on one byte of a shared file, at the address's
/// offset: one descriptor holds any number of claims, a node that dies drops its claims with
/// it, and locks of two nodes in one process still exclude each other (each opens the file).
final class HostAddressClaims: @unchecked Sendable {
    private let lock = NSLock()
    private var descriptor: Int32

    /// The file every node on this host locks: under /run for root, else per user.
    static var defaultPath: String {
        geteuid() == 0 ? "/run/fair/pod-addresses" : NSTemporaryDirectory() + "fair-\(geteuid())/pod-addresses"
    }

    /// nil when the file cannot be opened (then only listeners seen on the host are avoided).
    init?(path: String = HostAddressClaims.defaultPath) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
    }

    deinit { releaseAll() }

    /// Drops every claim at once, as the node's exit would: a stopped node hands out no more.
    func releaseAll() {
        lock.withLock {
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
        }
    }

    /// Claims `address`; false when another node holds it.
    func claim(_ address: UInt32) -> Bool {
        lock(address, type: F_WRLCK)
    }

    func release(_ address: UInt32) {
        _ = lock(address, type: F_UNLCK)
    }

    private func lock(_ address: UInt32, type: Int32) -> Bool {
        var range = flock()
        range.l_type = Int16(type)
        range.l_whence = Int16(SEEK_SET)
        range.l_start = off_t(address)
        range.l_len = 1
        return lock.withLock { descriptor >= 0 && fcntl(descriptor, Self.setOpenFileDescriptionLock, &range) == 0 }
    }

    /// F_OFD_SETLK from <fcntl.h>, which Glibc's module does not export (Linux 3.15 and later).
    private static let setOpenFileDescriptionLock: Int32 = 37
}
