import Foundation

/// The base image when neither `--base` nor fair.yaml names one: `FAIR_BASE`, else `base:` in the
/// user's fair config (`$XDG_CONFIG_HOME/fair/config.yaml`, else `~/.config/fair/config.yaml`),
/// else the official `python:<this machine's Python minor>-slim` image, so that what runs in the
/// image is the Python the script was written against.
public enum DefaultBase {
    public struct Choice: Sendable, Equatable {
        public var reference: String
        /// Where it came from, for messages.
        public var origin: String
    }

    public static func choose(environment: [String: String] = ProcessInfo.processInfo.environment) -> Choice {
        if let base = environment["FAIR_BASE"], !base.isEmpty { return Choice(reference: base, origin: "FAIR_BASE") }
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.config"
        let file = "\(configHome)/fair/config.yaml"
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("base:") {
                let value = line.dropFirst("base:".count).trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
                if !value.isEmpty { return Choice(reference: value, origin: file) }
            }
        }
        let minor = localPythonMinor() ?? "3.11"
        return Choice(reference: "docker.io/library/python:\(minor)-slim", origin: "the default (python3 on this machine is \(minor))")
    }

    /// `3.11` for the python3 on PATH; nil when there is none.
    static func localPythonMinor() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.range(of: #"^\d+\.\d+$"#, options: .regularExpression) != nil ? text : nil
    }
}
