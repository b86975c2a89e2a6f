#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor, closed when the last reference goes, so that no error path leaks one.
final class OwnedDescriptor {
    let raw: Int32

    init(_ raw: Int32) {
        self.raw = raw
    }

    deinit {
        close(raw)
    }
}

/// Open flags Glibc's Swift overlay leaves out (they sit behind _GNU_SOURCE). The values are
/// those of the generic Linux ABI, shared by x86_64 and arm64.
enum LinuxOpenFlag {
    /// O_PATH: a handle naming a file or directory without opening it for I/O, usable as the
    /// directory of the *at() calls and, with O_NOFOLLOW, on a symbolic link itself.
    static let path: Int32 = 0o10000000
    /// AT_EMPTY_PATH: the *at() call acts on the descriptor itself.
    static let emptyPath: Int32 = 0x1000
}
