#if canImport(Glibc)
import Glibc
#endif

/// openat2(2) (Linux 5.6+), whose RESOLVE_IN_ROOT makes the kernel resolve a path as if the
/// directory descriptor were `/`: absolute symbolic links restart there and `..` stops there,
/// atomically, with no window for a rename to slip a path outside.
///
/// Glibc has no wrapper for it before 2.40, and its generic `syscall` is variadic, which Swift
/// cannot call. The symbol is therefore looked up and called through a fixed-argument function
/// type. That is sound where variadic and fixed integer/pointer arguments travel in the same
/// registers and glibc's `syscall` is the assembly stub that ignores the vector-count register:
/// x86_64 and arm64 Linux. Elsewhere this reports ENOSYS and callers fall back to resolving
/// components themselves.
public enum OpenAt2 {
    public static let resolveNoMagicLinks: UInt64 = 0x02
    public static let resolveNoSymlinks: UInt64 = 0x04
    /// Fail with EXDEV, rather than follow, where resolution would leave the directory.
    public static let resolveBeneath: UInt64 = 0x08
    public static let resolveInRoot: UInt64 = 0x10
    /// The syscall number: the same in the unified table of every architecture.
    private static let number = 437

    /// `struct open_how` of <linux/openat2.h>.
    private struct How {
        var flags: UInt64
        var mode: UInt64
        var resolve: UInt64
    }

    private typealias SyscallFunction =
        @convention(c) (Int, Int32, UnsafePointer<CChar>, UnsafeRawPointer, Int) -> Int

    private static let syscallFunction: SyscallFunction? = {
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "syscall") else { return nil }
        return unsafeBitCast(symbol, to: SyscallFunction.self)
        #else
        return nil
        #endif
    }()

    /// The new descriptor, or -1 with errno set (ENOSYS where the call is unavailable).
    public static func open(_ directory: Int32, _ path: UnsafePointer<CChar>, flags: Int32, resolve: UInt64) -> Int32 {
        guard let call = syscallFunction else {
            errno = ENOSYS
            return -1
        }
        var how = How(flags: UInt64(UInt32(bitPattern: flags)), mode: 0, resolve: resolve)
        let result = withUnsafePointer(to: &how) {
            call(number, directory, path, UnsafeRawPointer($0), MemoryLayout<How>.size)
        }
        return Int32(truncatingIfNeeded: result)
    }
}
