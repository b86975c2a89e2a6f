import FairKube
import FairWorkloads
import Foundation

/// Shows a followed Job: the training container's output as it is written (stdout, or stderr
/// when stdout carries a JSON/YAML result), a line per attempt and per ended container on
/// stderr, and the model container's progress; keeps the model's JSON result and the times
/// each stage was seen.
final class JobOutputPrinter: @unchecked Sendable {
    private let logs: FileHandle
    private var partialModelLine: [UInt8] = []
    private(set) var modelResult: JSONValue?
    private(set) var scheduledAt: Date?
    private(set) var startedAt: Date?
    private(set) var trainedAt: Date?
    /// A multi-worker Job's ranks stream from threads of their own, a whole line at a time.
    private let lock = NSLock()

    init(logsToStandardOutput: Bool) {
        logs = logsToStandardOutput ? .standardOutput : .standardError
    }

    func log(pod: String, container: String, bytes: UnsafeRawBufferPointer) {
        lock.lock(); defer { lock.unlock() }
        guard container == "model" else {
            logs.write(Data(bytes))
            return
        }
        // The model step prints progress lines and one JSON line with where the model went.
        partialModelLine.append(contentsOf: bytes)
        while let newline = partialModelLine.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: partialModelLine[..<newline], as: UTF8.self)
            partialModelLine.removeSubrange(...newline)
            // The JSON result starts its own line, but may share it with the end of a stderr line.
            if let start = line.range(of: "{\"repository\"")?.lowerBound,
               let value = try? JSONCoding.decode(Array(line[start...].utf8)) {
                modelResult = value
            } else if line.contains("error") || line.contains("warning") {
                // Progress is summed up once the Job ends; trouble is shown as it happens.
                Console.progress("model: \(line.hasPrefix("fair-model: ") ? String(line.dropFirst(12)) : line)")
            }
        }
        if partialModelLine.count > 65536 { partialModelLine.removeAll() }  // not a line of ours
    }

    func event(_ event: JobFollower.Event) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .rankStarted(rank, pod, node, attempt, of):
            if startedAt == nil { startedAt = Date() }
            let place = node.map { " on node \($0)" } ?? ""
            Console.progress("── [\(rank)] pod \(pod)\(place)\(attempt > 1 ? " (attempt \(attempt) of \(of))" : "")")
        case .scheduled:
            if scheduledAt == nil { scheduledAt = Date() }
        case let .waiting(pod, why):
            Console.progress("waiting: pod \(pod): \(why)")
        case let .attempt(pod, node, number, of):
            if startedAt == nil { startedAt = Date() }
            let place = node.map { " on node \($0)" } ?? ""
            Console.progress(of > 1 ? "── attempt \(number) of \(of): pod \(pod)\(place)" : "── pod \(pod)\(place)")
        case let .containerEnded(pod, container, exitCode, reason):
            if container == "train" {
                if exitCode == 0 {
                    trainedAt = max(trainedAt ?? .distantPast, Date())
                } else {
                    Console.progress("── pod \(pod): training exited with code \(exitCode)\(reason.map { " (\($0))" } ?? "")")
                }
            } else if exitCode != 0 {
                Console.progress("── storing the model failed: exit code \(exitCode)")
            }
        }
    }
}

