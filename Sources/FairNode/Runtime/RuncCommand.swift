import Foundation

/// One short runc command (`--version`, `state`, `kill`, `delete`, `list`) against the node's
/// runc state directory, with its output captured.
struct RuncCommand {
    /// The runc executable, as an absolute path.
    let executable: String
    /// `runc --root`: where runc keeps the state of this node's containers.
    let stateRoot: String?

    struct Result {
        var status: Int32
        var output: String
        var error: String

        /// What runc said, for an error message: its stderr, else its stdout.
        var message: String {
            let text = error.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? output.trimmingCharacters(in: .whitespacesAndNewlines) : text
        }
    }

    func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = (stateRoot.map { ["--root", $0] } ?? []) + arguments
        process.standardInput = FileHandle.nullDevice
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        do {
            try process.run()
        } catch {
            throw RuntimeError.runcUnavailable(path: executable, detail: "\(error)")
        }
        // Both pipes are drained while the command runs, so neither can fill up and stall it.
        let errorData = PipeCollector(error)
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                      error: String(decoding: errorData.wait(), as: UTF8.self))
    }

    /// Runs the command and fails with runc's message unless it exits 0.
    @discardableResult
    func check(_ arguments: [String]) throws -> Result {
        let result = try run(arguments)
        if result.status != 0 {
            throw RuntimeError.runc(command: "runc \(arguments.joined(separator: " "))", status: result.status, output: result.message)
        }
        return result
    }

    /// The runc to use: `path` if it is absolute, else the first match on PATH or the usual
    /// system directories (runc lives in /usr/sbin on Debian, which a non-root PATH lacks).
    static func locate(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if path.contains("/") { return FileManager.default.isExecutableFile(atPath: path) ? path : nil }
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        return directories.map { "\($0)/\(path)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Reads a pipe to its end on another thread.
private final class PipeCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
