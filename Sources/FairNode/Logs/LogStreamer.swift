import Foundation

/// Streams one container log file: from the start or from the last N lines, then (with follow)
/// new bytes as they are written, until the container has exited and the file is drained.
///
/// The runtime writes raw stdout/stderr without times, so `timestamps` prefixes each line with
/// the best time known: for what was in the file when the request came, the file's last write
/// time; for what is read while following, the time it was read (within one poll interval).
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
        var stamper = LineStamper()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var exited = false
        while true {
            // Within the backlog, never read past it in one go, so its lines get the backlog's time.
            let limit = offset < backlogEnd ? min(buffer.count, Int(backlogEnd - offset)) : buffer.count
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, limit, off_t(offset)) }
            if count > 0 {
                let time = offset < backlogEnd ? backlogTime : Date()
                offset += Int64(count)
                let chunk = Array(buffer[..<count])
                try await write(options.timestamps ? stamper.stamp(chunk, time: time) : chunk)
                continue
            }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            // End of the file for now.
            guard options.follow, !exited, !stopped else { return }
            if !source.isRunning() {
                // Read once more: the last writes may have landed after the read above.
                exited = true
                continue
            }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
    }

    private var stopped: Bool { isStopped() || Task.isCancelled }
}

/// Puts a time before every line, across chunk boundaries.
struct LineStamper {
    private var atLineStart = true

    mutating func stamp(_ bytes: [UInt8], time: Date) -> [UInt8] {
        let prefix = Array((Timestamps.rfc3339Nano(time) + " ").utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + prefix.count * 4)
        for byte in bytes {
            if atLineStart {
                output.append(contentsOf: prefix)
                atLineStart = false
            }
            output.append(byte)
            if byte == UInt8(ascii: "\n") { atLineStart = true }
        }
        return output
    }
}
