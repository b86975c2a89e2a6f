import FairOCI
import FairRegistry
import Foundation

/// Shows pushes and pulls as they happen: a live bar per blob on a terminal, one plain line per
/// event otherwise (CI logs), nothing with --quiet. Events arrive from worker threads.
///
/// The live area is the last lines of the terminal, one row per blob: every line is cut to the
/// terminal's width (a wrapped line would make the next redraw land a row off, as docker and
/// podman avoid too), and whatever else fair prints while it is shown goes above it
/// (`Console.progress` asks the area to step aside), so nothing is drawn twice or over.
final class TransferDisplay: @unchecked Sendable {
    private let verb: String
    private let quiet: Bool
    private let live: Bool
    private let lock = NSLock()
    private var order: [Digest] = []
    private var state: [Digest: Transfer] = [:]
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    private var finished = false

    private struct Transfer {
        var size: Int64
        var done: Int64 = 0
        var status: String
        var started = Date()
        var ended: Date?
    }

    init(verb: String, quiet: Bool) {
        self.verb = verb
        self.quiet = quiet
        self.live = !quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        if live { Console.liveArea = self }
    }

    func handle(_ event: TransferEvent) {
        if quiet { return }
        lock.lock(); defer { lock.unlock() }
        let short = String(event.digest.encoded.prefix(12))
        switch event.kind {
        case .started:
            if state[event.digest] == nil { order.append(event.digest) }
            state[event.digest] = Transfer(size: event.size, status: verb)
            if !live { Console.write("\(verb) \(short) \(Console.humanSize(event.size))") }
        case let .progress(bytes):
            state[event.digest]?.done = bytes
        case .exists:
            end(event, status: "exists")
            if !live { Console.write("exists \(short)") }
        case let .mounted(from):
            end(event, status: "mounted")
            if !live { Console.write("mounted \(short) from \(from)") }
        case .done:
            end(event, status: "done")
            if !live { Console.write("done \(short) \(Console.humanSize(event.size))") }
        case let .manifest(reference):
            let line = "\(verb == "pushing" ? "pushed" : "pulled") \(reference)"
            if live { printAboveLocked(line) } else { Console.write(line) }
            return
        }
        if live { redraw(force: !isProgress(event.kind)) }
    }

    private func end(_ event: TransferEvent, status: String) {
        state[event.digest]?.status = status
        state[event.digest]?.done = event.size
        state[event.digest]?.ended = Date()
    }

    private func isProgress(_ kind: TransferEvent.Kind) -> Bool {
        if case .progress = kind { return true }
        return false
    }

    /// Prints a line above the live area (called by `Console` for everything else fair says).
    func printAbove(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        printAboveLocked(line)
    }

    private func printAboveLocked(_ line: String) {
        guard !finished else {
            Console.write(line)
            return
        }
        var text = clearArea()
        text += line + "\n"
        drawnLines = 0
        FileHandle.standardError.write(Data(text.utf8))
        redraw(force: true)
    }

    /// Moves to the first row of the area and clears from there to the end of the screen.
    private func clearArea() -> String {
        drawnLines > 0 ? "\u{1B}[\(drawnLines)A\r\u{1B}[J" : ""
    }

    /// Redraws every blob's line in place, at most ten times a second unless forced.
    private func redraw(force: Bool) {
        let now = Date()
        if !force && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        let width = Self.terminalWidth()
        var text = clearArea()
        for digest in order {
            guard let entry = state[digest] else { continue }
            text += Self.line(digest: digest, entry, width: width, now: now) + "\n"
        }
        drawnLines = order.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// `3c7e41e986ad [=====>    ]  12.5 MB/70.1 MB  31.2 MB/s  2s  pushing`, cut to fit `width`
    /// columns (one column spare, so a full line never makes the terminal wrap): the bar narrows
    /// first, then goes, then the speed and time; the digest and status always stay.
    private static func line(digest: Digest, _ entry: Transfer, width: Int, now: Date) -> String {
        let short = String(digest.encoded.prefix(12))
        let fraction = entry.size > 0 ? min(1, Double(entry.done) / Double(entry.size)) : 1
        let elapsed = (entry.ended ?? now).timeIntervalSince(entry.started)
        let speed = elapsed > 0.05 ? Double(entry.done) / elapsed : 0
        var rate = ""
        if ["done", "pushing", "pulling"].contains(entry.status), speed > 0 {
            rate = "\(Console.humanSize(Int64(speed)))/s"
        }
        var eta = ""
        if entry.ended == nil, speed > 0, entry.done < entry.size {
            eta = Self.duration(Double(entry.size - entry.done) / speed)
        }
        let amount = "\(Console.humanSize(entry.done))/\(Console.humanSize(entry.size))"
        let room = max(20, width) - 1
        func compose(bar: Int, details: Bool) -> String {
            var parts = [short]
            if bar > 0 {
                let filled = Int(fraction * Double(bar))
                let head = filled < bar && filled > 0 ? ">" : ""
                parts.append("[" + String(repeating: "=", count: max(0, filled - head.count)) + head
                             + String(repeating: " ", count: bar - max(0, filled - head.count) - head.count) + "]")
            }
            parts.append(amount)
            if details {
                if !rate.isEmpty { parts.append(rate) }
                if !eta.isEmpty { parts.append(eta) }
            }
            parts.append(entry.status)
            return parts.joined(separator: " ")
        }
        let bare = compose(bar: 0, details: true)
        let barWidth = min(30, room - bare.count - 3)
        if barWidth >= 5 { return compose(bar: barWidth, details: true) }
        if bare.count <= room { return bare }
        let plain = compose(bar: 0, details: false)
        if plain.count <= room { return plain }
        return String("\(short) \(entry.status)".prefix(room))
    }

    private static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return "\(Int(seconds.rounded(.up)))s" }
        if seconds < 3600 { return "\(Int(seconds / 60))m\(Int(seconds) % 60)s" }
        return "\(Int(seconds / 3600))h\(Int(seconds / 60) % 60)m"
    }

    /// Columns of the terminal on standard error (80 when it cannot tell).
    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }

    /// Ends the live display: its last state stays on the screen, and later output goes below it.
    func finish() {
        guard live else { return }
        lock.lock()
        if !finished {
            redraw(force: true)
            finished = true
        }
        lock.unlock()
        if Console.liveArea === self { Console.liveArea = nil }
    }
}
