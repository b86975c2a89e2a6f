import FairKube
import Foundation

/// The output of a multi-worker Job's ranks, all shown as it is written, each line prefixed by
/// its rank (`[0] …`), as torchrun's `--tee`/`--log-line-prefix-template` does. Every container
/// log streams on a thread of its own. A stream that ends before its container did (a dropped
/// connection, a node agent restarting) is started again by the follower's next turn and
/// resumes after what was shown; one that began after the container had ended showed it all.
final class RankedLogStreams: @unchecked Sendable {
    private let client: KubeClient
    private let namespace: String
    private let onLog: (_ pod: String, _ container: String, _ bytes: UnsafeRawBufferPointer) -> Void
    private let onChange: () -> Void
    private let lock = NSLock()
    private var running: Set<String> = []
    private var complete: Set<String> = []
    private var shown: [String: Int64] = [:]
    private var failures: [String: Int] = [:]
    private var lines: [String: LinePrefixer] = [:]

    init(client: KubeClient, namespace: String, onLog: @escaping (String, String, UnsafeRawBufferPointer) -> Void,
         onChange: @escaping () -> Void) {
        self.client = client
        self.namespace = namespace
        self.onLog = onLog
        self.onChange = onChange
    }

    enum State { case notStarted, running, complete }

    func state(pod: String, container: String) -> State {
        let key = "\(pod)/\(container)"
        lock.lock(); defer { lock.unlock() }
        if complete.contains(key) { return .complete }
        return running.contains(key) ? .running : .notStarted
    }

    var anyRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return !running.isEmpty
    }

    /// Streams the container's log from where it was left. `ended`: the container had ended
    /// when this was decided, so a stream that reads to its end has shown everything.
    func start(pod: String, container: String, rank: Int, ended: Bool) {
        let key = "\(pod)/\(container)"
        lock.lock()
        guard !running.contains(key), !complete.contains(key) else { return lock.unlock() }
        running.insert(key)
        let skip = shown[key] ?? 0
        let prefixer = lines[key] ?? LinePrefixer(prefix: "[\(rank)] ")
        lines[key] = prefixer
        lock.unlock()
        let thread = Thread { [self] in
            let sink = SkippingSink(skip: skip) { [onLog] bytes in
                prefixer.feed(bytes) { onLog(pod, container, $0) }
            }
            var read = false
            do {
                try client.log(namespace: namespace, pod: pod, container: container, follow: !ended, sink: sink)
                read = true
            } catch {
                // Not served yet, or the connection dropped: the next turn starts it again.
            }
            lock.lock()
            shown[key] = max(shown[key] ?? 0, sink.offset)
            running.remove(key)
            if !read { failures[key, default: 0] += 1 }
            // An ended container read to its end, or one the node cannot serve for a long while.
            let done = ended && (read || failures[key, default: 0] >= 120)
            if done { complete.insert(key) }
            lock.unlock()
            if done { prefixer.flush { onLog(pod, container, $0) } }
            if !read { Thread.sleep(forTimeInterval: 0.5) }
            onChange()
        }
        thread.name = "log \(key)"
        thread.start()
    }
}

/// Cuts a byte stream into whole lines, each given the prefix; a line longer than 64 KiB is
/// passed on in pieces rather than held.
public final class LinePrefixer: @unchecked Sendable {
    private let prefix: [UInt8]
    private var partial: [UInt8] = []
    private let lock = NSLock()
    public static let longestLine = 65536

    public init(prefix: String) { self.prefix = Array(prefix.utf8) }

    public func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
        lock.lock(); defer { lock.unlock() }
        var output: [UInt8] = []
        for byte in bytes {
            partial.append(byte)
            if byte == UInt8(ascii: "\n") || partial.count >= Self.longestLine {
                output += prefix
                output += partial
                if byte != UInt8(ascii: "\n") { output.append(UInt8(ascii: "\n")) }
                partial.removeAll(keepingCapacity: true)
            }
        }
        if !output.isEmpty { output.withUnsafeBytes(emit) }
    }

    /// The last line, when the output did not end with a newline.
    public func flush(_ emit: (UnsafeRawBufferPointer) -> Void) {
        lock.lock(); defer { lock.unlock() }
        guard !partial.isEmpty else { return }
        let output = prefix + partial + [UInt8(ascii: "\n")]
        partial.removeAll()
        output.withUnsafeBytes(emit)
    }
}
