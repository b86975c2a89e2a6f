import Foundation
#if canImport(Glibc)
import Glibc

/// glibc's `pthread_setname_np`, which Swift's Glibc module leaves out (it needs _GNU_SOURCE).
private typealias SetThreadName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
private let setThreadName: SetThreadName? = dlsym(nil, "pthread_setname_np").map { unsafeBitCast($0, to: SetThreadName.self) }
#endif

extension Thread {
    /// Names the calling thread for `ps -L`, /proc and debuggers. Foundation's setter does not
    /// always reach the kernel for a thread it has only just started, so the name is also set
    /// directly; Linux keeps 15 bytes of it and refuses a longer one, so it is cut to fit.
    public static func nameCurrent(_ name: String) {
        Thread.current.name = name
        #if canImport(Glibc)
        var bytes = Array(name.utf8.prefix(15)).map { CChar(bitPattern: $0) }
        bytes.append(0)
        _ = setThreadName?(pthread_self(), bytes)
        #endif
    }
}
