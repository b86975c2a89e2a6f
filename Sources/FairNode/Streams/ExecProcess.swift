import FairKube
import FairSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an exec asks for: kubelet's `/exec` parameters.
public struct ExecRequest: Sendable, Equatable {
    public var command: [String]
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var tty: Bool

    public init(command: [String], stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool) {
        self.command = command
        self.stdin = stdin
        self.stdout = stdout
        // With a terminal, stderr is the terminal too (kubelet drops a separate stderr).
        self.stderr = stderr && !tty
        self.tty = tty
    }
}

/// A runtime that can run a further process in a running container.
public protocol ContainerExecuting: Sendable {
    func exec(id: String, _ request: ExecRequest) throws -> ExecProcess
}

/// How an exec ended.
public enum ExecOutcome: Equatable, Sendable {
    /// The command ran and exited with this status (128+N when signal N ended it).
    case exited(Int32)
    /// runc could not run it (the container stopped, the command was not found in it).
    case failed(String)
}

/// One `runc exec` in a running container, in the foreground: env, user, working directory,
/// capabilities and limits come from the container's own config.json, with the arguments
/// replaced, as runc does without `--process`. Without a terminal the three streams are pipes,
/// which runc copies to the process (its stdin's EOF becomes the process's); with one, runc is
/// given a pty's slave and makes the container's terminal itself.
public final class ExecProcess: @unchecked Sendable {
    let pid: pid_t
    /// Where the node writes stdin: a pipe, or the pty's master. Nil when stdin was not asked for.
    private(set) var stdinDescriptor: Int32?
    /// What the node reads: stdout's pipe or the pty's master; stderr's pipe.
    let stdoutDescriptor: Int32?
    let stderrDescriptor: Int32?
    private let terminal: PseudoTerminal?
    private let scratch: String
    private let lock = NSLock()
    private var writesCancelled = false
    private var reaped = false

    init(runc: String, stateRoot: String, containerID: String, request: ExecRequest, scratch: String) throws {
        self.scratch = scratch
        try PrivateDirectory.ensure(scratch)
        let pidFile = "\(scratch)/pid", log = "\(scratch)/runc.log"
        var arguments = [runc, "--root", stateRoot, "--log", log, "--log-format", "json", "exec", "--pid-file", pidFile]
        if request.tty { arguments.append("--tty") }
        arguments.append(containerID)
        arguments += request.command
        let environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

        if request.tty {
            let terminal = try PseudoTerminal()
            self.terminal = terminal
            pid = try ChildProcess.spawn(arguments, io: .terminal(terminal.slavePath), environment: environment)
            stdinDescriptor = request.stdin ? terminal.master : nil
            _ = fcntl(terminal.master, F_SETFL, fcntl(terminal.master, F_GETFL) | O_NONBLOCK)
            stdoutDescriptor = terminal.master
            stderrDescriptor = nil
            return
        }
        terminal = nil
        // The child's ends are closed here once it has them; the node keeps the other ends.
        var childEnds: [Int32] = []
        defer { for descriptor in childEnds { close(descriptor) } }
        func pipeEnds() throws -> (read: Int32, write: Int32) {
            var ends: [Int32] = [0, 0]
            guard ChildProcess.makePipe(&ends) == 0 else {
                throw RuntimeError.startFailed(id: containerID, detail: "cannot make a pipe: \(String(cString: strerror(errno)))")
            }
            return (ends[0], ends[1])
        }
        // The node's ends, closed here if anything below fails.
        var nodeEnds: [Int32] = []
        /// One stream: a pipe (the child gets one end, the node keeps the other), or /dev/null.
        func stream(_ wanted: Bool, childWrites: Bool) throws -> (child: Int32, node: Int32?) {
            guard wanted else {
                let descriptor = open("/dev/null", (childWrites ? O_WRONLY : O_RDONLY) | O_CLOEXEC)
                childEnds.append(descriptor)
                return (descriptor, nil)
            }
            let ends = try pipeEnds()
            let (child, node) = childWrites ? (ends.write, ends.read) : (ends.read, ends.write)
            childEnds.append(child)
            nodeEnds.append(node)
            return (child, node)
        }
        let stdin: (child: Int32, node: Int32?), stdout: (child: Int32, node: Int32?), stderr: (child: Int32, node: Int32?)
        do {
            stdin = try stream(request.stdin, childWrites: false)
            stdout = try stream(request.stdout, childWrites: true)
            stderr = try stream(request.stderr, childWrites: true)
            pid = try ChildProcess.spawn(arguments, io: .descriptors(stdin: stdin.child, stdout: stdout.child, stderr: stderr.child),
                                         environment: environment)
        } catch {
            for descriptor in nodeEnds { close(descriptor) }
            throw error
        }
        let stdinWrite = stdin.node, stdoutRead = stdout.node, stderrRead = stderr.node
        if let stdinWrite { _ = fcntl(stdinWrite, F_SETFL, fcntl(stdinWrite, F_GETFL) | O_NONBLOCK) }
        stdinDescriptor = stdinWrite
        stdoutDescriptor = stdoutRead
        stderrDescriptor = stderrRead
    }

    /// Writes all of `bytes` to the process's stdin; false once it can take no more (it closed
    /// its stdin or exited) or the writes were cancelled. Waits while the pipe or terminal is
    /// full: that is the client's backpressure. The descriptor is non-blocking, so a wait can
    /// always be given up (`cancelWrites`) rather than block for good on a process that never
    /// reads.
    func writeStdin(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            lock.lock()
            let descriptor = stdinDescriptor, cancelled = writesCancelled
            lock.unlock()
            guard let descriptor, !cancelled else { return false }
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written >= 0 {
                offset += written
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 100)
            default: return false
            }
        }
        return true
    }

    /// The client has gone: writes waiting for room give up, and no more are made.
    func cancelWrites() {
        lock.lock()
        writesCancelled = true
        lock.unlock()
    }

    /// The client's stdin ended: the process reads EOF. A terminal has no EOF of its own; the
    /// terminal's EOF character (Ctrl-D) is what a shell on it reads as the end.
    func closeStdin() {
        lock.lock()
        let descriptor = stdinDescriptor, cancelled = writesCancelled
        stdinDescriptor = nil
        lock.unlock()
        guard let descriptor else { return }
        if terminal != nil {
            // Not when the client has gone: the terminal is about to hang up instead.
            if !cancelled { _ = [UInt8(4)].withUnsafeBytes { write(descriptor, $0.baseAddress, 1) } }
        } else {
            close(descriptor)
        }
    }

    /// A new terminal size: set on our terminal, then runc is told (it copies the size into the
    /// container's terminal on SIGWINCH).
    func resize(_ size: TerminalSize) {
        guard let terminal else { return }
        terminal.resize(size)
        kill(pid, SIGWINCH)
    }

    /// Waits for runc to end. runc writes the pid file once the process runs, so without one the
    /// exit status is runc's own failure, and its log says why.
    func wait() -> ExecOutcome {
        let status = ChildProcess.wait(pid) ?? 255 << 8
        lock.lock()
        reaped = true
        lock.unlock()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        guard FileManager.default.fileExists(atPath: "\(scratch)/pid") else {
            let reason = ContainerBundle.lastError(inRuncLog: "\(scratch)/runc.log") ?? "runc exec exited with status \((status >> 8) & 0xff)"
            return .failed(reason)
        }
        let signal = status & 0x7f
        return .exited(signal == 0 ? (status >> 8) & 0xff : 128 + signal)
    }

    /// Closes the terminal's master, once nothing reads it any more: the session on it gets SIGHUP.
    /// runc forwards that to the process, but a hang-up that comes while the process is still
    /// being started can be lost on the way (runc then waits for good on a process reading a
    /// terminal nobody will write to), so the process is sent SIGHUP here too, once it runs.
    /// The pid file can name the process a moment before it has become the command (while
    /// runc's init still holds it, a signal is dropped), so the hang-up is sent again each
    /// second while the process lives, up to ten times.
    /// What still runs after that can never be reached again (a process that ignores SIGHUP, or
    /// runc stuck before the command ran): the process is killed, then runc if it lingers, so a
    /// client that went away leaves nothing running on the node.
    func hangUp() {
        guard let terminal else { return }
        terminal.close()
        let runc = pid, pidFile = "\(scratch)/pid"
        Thread.detachNewThread { [self] in
            var sent = 0
            for _ in 0..<200 where sent < 10 {
                if exited { return }
                if let process = Self.runcChild(pidFile: pidFile, runc: runc) {
                    kill(process, SIGHUP)
                    kill(process, SIGCONT)
                    sent += 1
                    usleep(1_000_000)
                } else {
                    usleep(100_000)
                }
            }
            if exited { return }
            if let process = Self.runcChild(pidFile: pidFile, runc: runc) { kill(process, SIGKILL) }
            for _ in 0..<20 where !exited { usleep(100_000) }
            if !exited { kill(runc, SIGKILL) }
        }
    }

    /// The process the pid file names while it is still runc's child (not reaped while runc
    /// lives, so the pid is still the process's).
    private static func runcChild(pidFile: String, runc: pid_t) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let process = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), process > 0,
              parent(of: process) == runc else { return nil }
        return process
    }

    /// Set once runc has been waited for.
    private var exited: Bool {
        lock.lock(); defer { lock.unlock() }
        return reaped
    }

    private static func parent(of process: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// Whether the output descriptors are pipes the reader closes when done (not the terminal,
    /// which stdin and resizes share, and which `hangUp` closes).
    var outputIsPiped: Bool { terminal == nil }

    /// Closes stdin's pipe, if still open (the output pipes are their readers' to close).
    func closeDescriptors() {
        lock.lock()
        let stdin = stdinDescriptor
        stdinDescriptor = nil
        lock.unlock()
        if terminal == nil, let stdin { close(stdin) }
    }
}

extension RuncRuntime: ContainerExecuting {
    public func exec(id: String, _ request: ExecRequest) throws -> ExecProcess {
        try Self.validate(id: id)
        return try ExecProcess(runc: runcPath, stateRoot: stateRoot, containerID: id, request: request,
                               scratch: "\(dataDirectory)/exec/\(UUID().uuidString.lowercased())")
    }
}
