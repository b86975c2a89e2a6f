import FairWorkloads
import Foundation

/// Shows a push or pull as it goes, on standard error: on a terminal one line redrawn in place
/// (files and bytes done of all, speed, time left, the file in flight), cut to the terminal's
/// width; otherwise plain lines (CI logs): each large file as it ends, and the totals every few
/// seconds. Events arrive from worker threads.
final class DataTransferDisplay: @unchecked Sendable {
    /// Files at least this big get a line of their own in plain output.
    static let largeFile: Int64 = 16 << 20

    private let verb: String
    private let quiet: Bool
    private let live: Bool
    private let lock = NSLock()
    private var totalFiles = 0
    private var totalBytes: Int64 = 0
    private var doneFiles = 0
    /// Bytes of finished files, sent or not.
    private var doneBytes: Int64 = 0
    /// Bytes that moved (for the speed): finished transfers and those in flight.
    private var movedBytes: Int64 = 0
    private var inFlight: [String: (size: Int64, bytes: Int64, started: Date)] = [:]
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var lastPlain = Date()
    private var drawn = false

    init(verb: String, quiet: Bool) {
        self.verb = verb
        self.quiet = quiet
        live = !quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func handle(_ event: DataTransferEvent) {
        if quiet { return }
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .planned(files, bytes):
            totalFiles = files
            totalBytes = bytes
            if !live { Console.write("\(verb) \(files) file\(files == 1 ? "" : "s") (\(Console.humanSize(bytes)))") }
        case let .started(path, size):
            inFlight[path] = (size, 0, Date())
        case let .progress(path, bytes):
            guard let entry = inFlight[path] else { return }
            movedBytes += max(0, bytes - entry.bytes)
            inFlight[path]?.bytes = bytes
        case let .finished(path, size, transferred):
            let entry = inFlight.removeValue(forKey: path)
            doneFiles += 1
            doneBytes += size
            if transferred {
                movedBytes += max(0, size - (entry?.bytes ?? 0))
                if !live, size >= Self.largeFile, let entry {
                    let seconds = Date().timeIntervalSince(entry.started)
                    let rate = seconds > 0 ? " at \(Console.humanSize(Int64(Double(size) / seconds)))/s" : ""
                    Console.write("\(path) \(Console.humanSize(size))\(rate)")
                }
            }
        }
        if live {
            redraw(force: false)
        } else if Date().timeIntervalSince(lastPlain) >= 5 {
            lastPlain = Date()
            Console.write(totals())
        }
    }

    /// `512/1001 files  210.3 MB/501.2 MB  85.2 MB/s`
    private func totals() -> String {
        let inProgress = inFlight.values.reduce(Int64(0)) { $0 + $1.bytes }
        let elapsed = Date().timeIntervalSince(started)
        var text = "\(doneFiles)/\(totalFiles) files  \(Console.humanSize(doneBytes + inProgress))/\(Console.humanSize(totalBytes))"
        if elapsed > 0.5, movedBytes > 0 { text += "  \(Console.humanSize(Int64(Double(movedBytes) / elapsed)))/s" }
        return text
    }

    private func redraw(force: Bool) {
        let now = Date()
        if !force && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        var line = "\(verb) " + totals()
        if let current = inFlight.max(by: { $0.value.size < $1.value.size })?.key { line += "  \(current)" }
        let width = max(20, TransferDisplay.terminalWidth()) - 1
        if line.count > width { line = String(line.prefix(width)) }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        drawn = true
    }

    /// Ends the display: the live line's last state stays, and later output goes below it.
    func finish() {
        guard live else { return }
        lock.lock(); defer { lock.unlock() }
        if drawn {
            redraw(force: true)
            FileHandle.standardError.write(Data("\n".utf8))
            drawn = false
        }
    }
}
