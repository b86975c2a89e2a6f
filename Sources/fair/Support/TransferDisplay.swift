import FairOCI
import FairRegistry
import Foundation

/// Shows pushes and pulls as they happen: a live bar per blob on a terminal, one plain line per
/// event otherwise (CI logs), nothing with --quiet. Events arrive from worker threads.
final class TransferDisplay: @unchecked Sendable {
    private let verb: String
    private let quiet: Bool
    private let live: Bool
    private let lock = NSLock()
    private var order: [Digest] = []
    private var state: [Digest: (size: Int64, done: Int64, status: String)] = [:]
    private var drawnLines = 0
    private var lastDraw = Date.distantPast

    init(verb: String, quiet: Bool) {
        self.verb = verb
        self.quiet = quiet
        self.live = !quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func handle(_ event: TransferEvent) {
        if quiet { return }
        lock.lock(); defer { lock.unlock() }
        let short = String(event.digest.encoded.prefix(12))
        switch event.kind {
        case .started:
            if state[event.digest] == nil { order.append(event.digest) }
            state[event.digest] = (event.size, 0, verb)
            if !live { Console.progress("\(verb) \(short) \(Console.humanSize(event.size))") }
        case let .progress(bytes):
            state[event.digest]?.done = bytes
        case .exists:
            state[event.digest]?.status = "exists"
            state[event.digest]?.done = event.size
            if !live { Console.progress("exists \(short)") }
        case let .mounted(from):
            state[event.digest]?.status = "mounted"
            state[event.digest]?.done = event.size
            if !live { Console.progress("mounted \(short) from \(from)") }
        case .done:
            state[event.digest]?.status = "done"
            state[event.digest]?.done = event.size
            if !live { Console.progress("done \(short) \(Console.humanSize(event.size))") }
        case let .manifest(reference):
            if live { redraw(force: true) }
            Console.progress("\(verb == "pushing" ? "pushed" : "pulled") \(reference)")
            return
        }
        if live { redraw(force: !isProgress(event.kind)) }
    }

    private func isProgress(_ kind: TransferEvent.Kind) -> Bool {
        if case .progress = kind { return true }
        return false
    }

    /// Redraws every blob's line in place, at most ten times a second unless forced.
    private func redraw(force: Bool) {
        let now = Date()
        if !force && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for digest in order {
            guard let entry = state[digest] else { continue }
            let fraction = entry.size > 0 ? Double(entry.done) / Double(entry.size) : 1
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            text += "\u{1B}[2K\(digest.encoded.prefix(12)) [\(bar)] \(Console.humanSize(entry.done))/\(Console.humanSize(entry.size)) \(entry.status)\n"
        }
        drawnLines = order.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Ends the live display when the transfer failed half-way, so the error starts on a clean line.
    func finish() {
        if live { lock.lock(); redraw(force: true); lock.unlock() }
    }
}
