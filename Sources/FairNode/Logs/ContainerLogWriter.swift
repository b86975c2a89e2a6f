import Foundation

/// Turns one output stream of a container (its standard input here) into CRI log lines appended
/// to its standard output (the container's log file), each stamped with the time it was read:
/// what conmon and containerd's shim do for CRI-O and containerd. It runs as a process of its
/// own beside the container's supervisor, so it outlives a restarted node agent as the
/// container does. Writes whole lines per `write`, so the stdout and stderr writers sharing one
/// file (opened for appending) interleave by line.
public enum ContainerLogWriter {
    /// The hidden subcommand of `fair` that runs it; the stream name follows.
    public static let subcommand = "container-log-writer"

    /// This executable, as a command the supervisor can run: `fair container-log-writer`.
    public static var selfCommand: [String]? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return [String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self), subcommand]
    }

    /// Copies until end of input; returns the exit status.
    public static func run(stream: String, input: Int32 = 0, output: Int32 = 1) -> Int32 {
        guard stream == "stdout" || stream == "stderr" else { return 2 }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            if count == 0 { break }
            let now = Date()
            pending.append(contentsOf: buffer[..<count])
            var start = 0
            var lines: [UInt8] = []
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                appendLine(pending[start..<newline], stream: stream, time: now, to: &lines)
                start = newline + 1
            }
            // A line longer than the limit goes out in parts, as containerd splits them.
            while pending.count - start >= CRILogFormat.maximumLineBytes {
                let end = start + CRILogFormat.maximumLineBytes
                lines += CRILogFormat.line(pending[start..<end], stream: stream, partial: true, time: now)
                start = end
            }
            pending.removeFirst(start)
            if !lines.isEmpty, !writeAll(lines, to: output) { return 1 }
        }
        // What was left without a newline is a part that nothing continues.
        if !pending.isEmpty, !writeAll(CRILogFormat.line(pending[...], stream: stream, partial: true, time: Date()), to: output) { return 1 }
        return 0
    }

    private static func appendLine(_ content: ArraySlice<UInt8>, stream: String, time: Date, to lines: inout [UInt8]) {
        var rest = content
        while rest.count > CRILogFormat.maximumLineBytes {
            lines += CRILogFormat.line(rest.prefix(CRILogFormat.maximumLineBytes), stream: stream, partial: true, time: time)
            rest = rest.dropFirst(CRILogFormat.maximumLineBytes)
        }
        lines += CRILogFormat.line(rest, stream: stream, partial: false, time: time)
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
