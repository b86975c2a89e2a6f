import FairKube
import Foundation

/// Streams one container log file: from the start or from the last N lines, then (with follow)
/// new bytes as they are written, until the container has exited and the file is drained.
///
/// Logs written through a log writer are CRI lines (`TIME STREAM F|P content`): each line's own
/// time decides `since`, and is what `timestamps` prints; partial lines are joined. A file of raw
/// output (a runtime without a writer, or a container from before one was used) is passed
/// through as it is, its lines timed by the best known time: the file's last write for what was
/// there when the request came, the time it was read for what came after.
struct LogStreamer {
    let source: ContainerLogSource
    let options: ContainerLogOptions
    var pollInterval: TimeInterval = 0.2
    let isStopped: @Sendable () -> Bool

    func stream(_ write: ([UInt8]) async throws -> Void) async throws {
        guard let path = source.path else { return }
        var descriptor = open(path, O_RDONLY | O_CLOEXEC)
        // A follower may arrive before the runtime has created the file.
        while descriptor < 0 && errno == ENOENT && options.follow && source.isRunning() && !stopped {
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }

        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return }
        let backlogEnd = Int64(info.st_size)
        let backlogTime = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
        var offset = options.tailLines.map { LogTail.offset(descriptor: descriptor, size: backlogEnd, lines: $0) } ?? 0
        var decoder = LogDecoder(options: options)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var exited = false
        while true {
            // Within the backlog, never read past it in one go, so its lines get the backlog's time.
            let limit = offset < backlogEnd ? min(buffer.count, Int(backlogEnd - offset)) : buffer.count
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, limit, off_t(offset)) }
            if count > 0 {
                let time = offset < backlogEnd ? backlogTime : Date()
                offset += Int64(count)
                let output = decoder.decode(buffer[..<count], readAt: time)
                if !output.isEmpty { try await write(output) }
                if decoder.limitReached { return }
                continue
            }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            // End of the file for now.
            guard options.follow, !exited, !stopped else { break }
            if !source.isRunning() {
                // Read once more: the last writes may have landed after the read above.
                exited = true
                await source.settle?()
                continue
            }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
        let rest = decoder.finish(readAt: Date())
        if !rest.isEmpty { try await write(rest) }
    }

    private var stopped: Bool { isStopped() || Task.isCancelled }
}

/// Turns bytes of a log file into what a client asked for: CRI lines decoded (partials joined),
/// raw output passed on, `since` applied per line, `timestamps` prefixed, `limitBytes` kept.
struct LogDecoder {
    let options: ContainerLogOptions
    /// Bytes of a line not yet complete.
    private var pending: [UInt8] = []
    /// The parts of a CRI line split into partials, with the first part's time.
    private var partial: (time: Date, text: Substring, content: [UInt8])?
    private var sent = 0
    /// Raw output: whether the next byte starts a line (for `timestamps`).
    private var rawAtLineStart = true
    private(set) var limitReached = false

    init(options: ContainerLogOptions) {
        self.options = options
    }

    mutating func decode(_ bytes: ArraySlice<UInt8>, readAt time: Date) -> [UInt8] {
        pending.append(contentsOf: bytes)
        var output: [UInt8] = []
        var start = 0
        while !limitReached, let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            emit(line: pending[start..<newline], newline: true, readAt: time, into: &output)
            start = newline + 1
        }
        pending.removeFirst(start)
        // Raw output is passed on as it comes, whole line or not (a progress bar); only what may
        // be the start of a CRI line waits for its end.
        if !limitReached, !pending.isEmpty, !Self.mayStartCRILine(pending[...]) {
            emitRaw(pending[...], readAt: time, into: &output)
            pending.removeAll()
        }
        return output
    }

    /// What is left when the file ends for good: a last line without a newline.
    mutating func finish(readAt time: Date) -> [UInt8] {
        var output: [UInt8] = []
        if !pending.isEmpty, !limitReached { emit(line: pending[...], newline: false, readAt: time, into: &output) }
        pending.removeAll()
        if let rest = partial, !limitReached {
            partial = nil
            send(rest.content[...], time: rest.time, timeText: rest.text, into: &output)
        }
        return output
    }

    private mutating func emit(line: ArraySlice<UInt8>, newline: Bool, readAt time: Date, into output: inout [UInt8]) {
        guard let parsed = CRILogFormat.parse(line) else {
            emitRaw(newline ? line + [UInt8(ascii: "\n")] : line, readAt: time, into: &output)
            return
        }
        if parsed.partial {
            if partial == nil { partial = (parsed.time, parsed.timeText, []) }
            partial!.content.append(contentsOf: parsed.content)
            return
        }
        var content = Array(parsed.content)
        var lineTime = parsed.time, lineText = parsed.timeText
        if let first = partial {
            content = first.content + content
            lineTime = first.time
            lineText = first.text
            partial = nil
        }
        content.append(UInt8(ascii: "\n"))
        send(content[...], time: lineTime, timeText: lineText, into: &output)
    }

    private mutating func send(_ content: ArraySlice<UInt8>, time: Date, timeText: Substring, into output: inout [UInt8]) {
        if let since = options.since, time < since { return }
        var line: [UInt8] = []
        if options.timestamps { line += Array(timeText.utf8) + [UInt8(ascii: " ")] }
        line += content
        append(line[...], into: &output)
    }

    private mutating func emitRaw(_ bytes: ArraySlice<UInt8>, readAt time: Date, into output: inout [UInt8]) {
        if let since = options.since, time < since { return }
        guard options.timestamps else {
            append(bytes, into: &output)
            return
        }
        let prefix = Array((KubeTime.formatNano(time) + " ").utf8)
        var stamped: [UInt8] = []
        for byte in bytes {
            if rawAtLineStart {
                stamped += prefix
                rawAtLineStart = false
            }
            stamped.append(byte)
            if byte == UInt8(ascii: "\n") { rawAtLineStart = true }
        }
        append(stamped[...], into: &output)
    }

    private mutating func append(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
        guard let limit = options.limitBytes else {
            output += bytes
            return
        }
        let room = limit - sent
        if bytes.count >= room {
            output += bytes.prefix(max(0, room))
            sent = limit
            limitReached = true
        } else {
            output += bytes
            sent += bytes.count
        }
    }

    /// Whether these bytes (no newline yet) could be the beginning of `YYYY-MM-DDTHH:MM:SS…Z stdout F `.
    static func mayStartCRILine(_ bytes: ArraySlice<UInt8>) -> Bool {
        let pattern = Array("0000-00-00T00:00:00".utf8)
        for (index, byte) in bytes.prefix(pattern.count).enumerated() {
            let expected = pattern[index]
            let isDigit = byte >= 48 && byte <= 57
            if expected == UInt8(ascii: "0") ? !isDigit : byte != expected { return false }
        }
        return true
    }
}
