import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts `runc run` for one container under a small shell supervisor that outlives the agent:
/// it runs in its own session (no terminal or process group ties it to the agent), is not the
/// agent's child (a first shell starts it in the background and exits at once), and holds no
/// descriptor of the agent's (a restarted agent can bind its ports again).
///
/// `runc run` stays in the foreground of the supervisor: it is the container's parent, so its
/// exit status is the container's (128+signal when killed), which the supervisor writes to the
/// bundle. `--keep` leaves the stopped container, and so its cgroup and OOM count, until the
/// runtime removes it. The container's stdout and stderr reach the log file (appended) through
/// runc, which copies each stream from its own pipe: lines of the two streams may interleave
/// otherwise than they were written, as with every CRI runtime.
enum ContainerSupervisor {
    /// $1 runc, $2 runc state root, $3 bundle, $4 id, $5 log file.
    static let supervisorScript = """
        "$1" --root "$2" --log "$3/runc.log" --log-format json run --keep --bundle "$3" --pid-file "$3/pid" "$4" </dev/null >>"$5" 2>&1
        echo $? >"$3/exit-code"
        """

    /// The same, with each output stream through a log writer ($6…, the stream name appended)
    /// that appends CRI lines to the log file. The exit code is written once both writers have
    /// drained their pipes, so a finished container's log is complete when its end is seen.
    static let stampingSupervisorScript = """
        runc="$1"; root="$2"; bundle="$3"; id="$4"; log="$5"; shift 5
        rm -f "$bundle/stdout.pipe" "$bundle/stderr.pipe"
        mkfifo -m 600 "$bundle/stdout.pipe" "$bundle/stderr.pipe" || exit 1
        "$@" stdout <"$bundle/stdout.pipe" >>"$log" 2>>"$bundle/log-writer.err" &
        "$@" stderr <"$bundle/stderr.pipe" >>"$log" 2>>"$bundle/log-writer.err" &
        "$runc" --root "$root" --log "$bundle/runc.log" --log-format json run --keep --bundle "$bundle" --pid-file "$bundle/pid" "$id" </dev/null >"$bundle/stdout.pipe" 2>"$bundle/stderr.pipe"
        code=$?
        wait
        echo $code >"$bundle/exit-code"
        """

    /// Starts the supervisor in the background and records its pid before exiting, so the pid
    /// is on disk when `launch` returns. Arguments as above, shifted by one: $1 is the script.
    static let launcherScript = """
        script="$1"; shift
        /bin/sh -c "$script" fair-supervisor "$@" </dev/null &
        echo $! >"$3/supervisor.pid"
        """

    static let environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

    // <spawn.h> flags Swift's Glibc overlay hides behind _GNU_SOURCE (same values on every Linux).
    private static let spawnSetSignalDefaults: Int32 = 0x04
    private static let spawnSetSignalMask: Int32 = 0x08
    private static let spawnSetSession: Int32 = 0x80

    /// `logWriter`: a command that turns one output stream into CRI log lines (the stream name
    /// is appended); nil writes the raw output, as before there was one.
    static func launch(runc: String, stateRoot: String, bundle: ContainerBundle, id: String, logPath: String, logWriter: [String]? = nil) throws {
        let script = logWriter == nil ? supervisorScript : stampingSupervisorScript
        let arguments = ["/bin/sh", "-c", launcherScript, "fair-launcher", script, runc, stateRoot, bundle.directory, id, logPath] + (logWriter ?? [])
        let pid = try spawn(arguments, output: bundle.supervisorLog)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno == EINTR { continue }
            if errno == ECHILD { return }  // someone else reaped it; the pid file tells the rest
            throw RuntimeError.io(path: bundle.directory, operation: "wait for the supervisor of", detail: String(cString: strerror(errno)))
        }
        // WIFEXITED && WEXITSTATUS == 0, spelled out: the macros are not imported.
        if status & 0x7f != 0 || (status >> 8) & 0xff != 0 {
            throw RuntimeError.startFailed(id: id, detail: "the supervisor shell failed (wait status \(status)); see \(bundle.supervisorLog)")
        }
    }

    /// posix_spawn with a new session, default signal handling (an agent that ignores SIGPIPE
    /// must not pass that on to containers), stdin from /dev/null, stdout and stderr appended to
    /// `output`, and every other descriptor closed.
    private static func spawn(_ arguments: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let closeFrom = SpawnCloseFrom.function {
            _ = closeFrom(&actions, 3)
        } else {
            // glibc before 2.34: close what is open now (a descriptor closed meanwhile by another
            // thread makes the spawn fail with EBADF, and the start is retried by the agent).
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
        posix_spawnattr_setflags(&attributes, Int16(spawnSetSession | spawnSetSignalDefaults | spawnSetSignalMask))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        if result != 0 {
            throw RuntimeError.io(path: arguments[0], operation: "start the container supervisor", detail: String(cString: strerror(result)))
        }
        return pid
    }
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
