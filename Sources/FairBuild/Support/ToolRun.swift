import Foundation

/// Runs an external tool (pip, debootstrap, chroot) with its output captured in a log file, so a
/// failure can quote the tool's own reason without the output ever sitting whole in memory while
/// the tool runs.
struct ToolRun {
    let executable: String
    let arguments: [String]
    var workingDirectory: String?

    struct Failure: Error {
        let status: Int32
        let log: String
    }

    /// Runs to completion. Throws `Failure` with the log on a non-zero exit, and rethrows launch
    /// errors (missing executable) as they are.
    func run(logPath: String) throws {
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw Failure(status: process.terminationStatus, log: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
        }
    }

    /// Runs to completion and returns its standard output, trimmed (for short answers only).
    func output() throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw Failure(status: process.terminationStatus, log: "")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
