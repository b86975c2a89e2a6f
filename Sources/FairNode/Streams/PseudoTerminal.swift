import FairKube
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pseudo-terminal pair: `exec -t` gives the slave to `runc exec --tty` as its terminal (runc
/// makes the container's own pty and copies between the two), and the node reads and writes
/// the master. The master is owned here and closed once; the slave is opened by the child.
final class PseudoTerminal: @unchecked Sendable {
    let master: Int32
    let slavePath: String

    struct Failure: Error, CustomStringConvertible {
        let step: String
        let code: Int32
        var description: String { "cannot make a terminal (\(step)): \(String(cString: strerror(code)))" }
    }

    // Linux's pty ioctls (asm-generic values, shared by x86-64 and arm64). posix_openpt and
    // friends are hidden from Swift's Glibc module; on Linux they are these calls.
    private static let unlock: UInt = 0x4004_5431      // TIOCSPTLCK
    private static let number: UInt = 0x8004_5430      // TIOCGPTN

    init() throws {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw Failure(step: "open /dev/ptmx", code: errno) }
        var locked: Int32 = 0, index: UInt32 = 0
        guard ioctl(master, Self.unlock, &locked) == 0, ioctl(master, Self.number, &index) == 0 else {
            let code = errno
            Glibc.close(master)
            throw Failure(step: "unlock", code: code)
        }
        self.master = master
        slavePath = "/dev/pts/\(index)"
    }

    /// TIOCSWINSZ (asm-generic's value, shared by x86-64 and arm64); the kernel then signals the
    /// terminal's foreground group, and the caller also tells runc (see `ExecProcess.resize`).
    private static let setWindowSize: UInt = 0x5414

    func resize(_ size: TerminalSize) {
        lock.lock()
        defer { lock.unlock() }
        guard isOpen else { return }
        var window = winsize(ws_row: size.height, ws_col: size.width, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, Self.setWindowSize, &window)
    }

    private let lock = NSLock()
    private var isOpen = true

    /// Closes the master once; the caller makes sure no thread still reads it.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard isOpen else { return }
        isOpen = false
        Glibc.close(master)
    }

    deinit {
        close()
    }
}
