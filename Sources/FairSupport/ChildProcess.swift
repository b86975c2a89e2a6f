import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts a long-lived helper process (a container's supervisor, the cluster DNS) without
/// Foundation's `Process`: that one hands the child every descriptor this process has open and
/// tracks children in ways a child that outlives the call confuses (a later short command's
/// `waitUntilExit` was seen never to return). Here the child gets a new session (a Ctrl-C in
/// the terminal is not its), default signal handling and an empty signal mask (this process
/// ignores SIGPIPE; its children must not inherit that), stdin from /dev/null, stdout and
/// stderr appended to `output`, and no other descriptor. The caller reaps it with `waitpid`.
public enum ChildProcess {
    public struct SpawnError: Error, CustomStringConvertible {
        public let program: String
        public let code: Int32
        public var description: String { "cannot start \(program): \(String(cString: strerror(code)))" }
    }

    // posix_spawn flags (glibc's values; the macros are not imported).
    private static let setSignalDefaults: Int32 = 0x04
    private static let setSignalMask: Int32 = 0x08
    private static let setSession: Int32 = 0x80

    /// Where the child's stdin, stdout and stderr come from.
    public enum StandardIO {
        /// stdin from /dev/null; stdout and stderr appended to a file made 0600.
        case log(String)
        /// Descriptors of this process, given to the child as 0, 1 and 2 (pipes' ends).
        case descriptors(stdin: Int32, stdout: Int32, stderr: Int32)
        /// A terminal's device (a pty's slave), opened as 0, 1 and 2. Opened by a new session's
        /// leader, it becomes the child's controlling terminal, as a shell's is.
        case terminal(String)
    }

    public static func spawn(_ arguments: [String], output: String, environment: [String]) throws -> pid_t {
        try spawn(arguments, io: .log(output), environment: environment)
    }

    public static func spawn(_ arguments: [String], io: StandardIO, environment: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch io {
        case let .log(output):
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case let .descriptors(stdin, stdout, stderr):
            // dup2 clears close-on-exec on the copies; the originals are closed below.
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
            posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        case let .terminal(device):
            posix_spawn_file_actions_addopen(&actions, 0, device, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
        }
        if let closeFrom = SpawnCloseFrom.function {
            _ = closeFrom(&actions, 3)
        } else {
            // glibc before 2.34: close what is open now (a descriptor closed meanwhile by another
            // thread makes the spawn fail with EBADF, and the caller's retry starts it again).
            for descriptor in SpawnCloseFrom.openDescriptors() where descriptor > 2 {
                posix_spawn_file_actions_addclose(&actions, descriptor)
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(setSession | setSignalDefaults | setSignalMask))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        if result != 0 { throw SpawnError(program: arguments[0], code: result) }
        return pid
    }

    /// A pipe whose ends close on exec (pipe2 with O_CLOEXEC, hidden from Swift's Glibc module
    /// behind _GNU_SOURCE): no child started meanwhile by another thread inherits an end, which
    /// would keep the pipe from ever reaching EOF.
    public static func makePipe(_ ends: inout [Int32]) -> Int32 {
        precondition(ends.count == 2)
        if let pipe2 = PipeWithFlags.function { return pipe2(&ends, O_CLOEXEC) }
        let result = pipe(&ends)
        if result == 0 { for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) } }
        return result
    }

    /// Waits for `pid` to end and returns its wait status; nil when it was reaped elsewhere.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno == EINTR { continue }
            return nil
        }
        return status
    }

    /// Whether `pid` has ended (and reaps it if so), without waiting.
    public static func hasEnded(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid || (result < 0 && errno == ECHILD)
    }
}

private enum PipeWithFlags {
    typealias Function = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let function: Function? = {
        guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()
}

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+), hidden from Swift's Glibc overlay
/// behind _GNU_SOURCE; looked up once.
private enum SpawnCloseFrom {
    typealias Function = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    static let function: Function? = {
        guard let program = dlopen(nil, RTLD_NOW),
              let symbol = dlsym(program, "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()

    static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
}
