import FairSupport
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

    private static func spawn(_ arguments: [String], output: String) throws -> pid_t {
        do {
            return try ChildProcess.spawn(arguments, output: output, environment: environment)
        } catch let error as ChildProcess.SpawnError {
            throw RuntimeError.io(path: arguments[0], operation: "start the container supervisor", detail: String(cString: strerror(error.code)))
        }
    }
}
