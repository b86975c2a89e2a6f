import Foundation

/// A project without a fair.yaml works as `python train.py` would: fair.yaml says only what
/// differs. The script is the one named (`fair train analysis.ipynb`), else `train.py`, else
/// `main.py`, else the only script or notebook in the directory; requirements.txt is used when
/// present, and the name is the directory's.
extension ProjectConfig {
    /// The scripts looked for, in order, when none is named.
    static let conventionalEntrypoints = ["train.py", "main.py"]

    /// fair.yaml when one is given or present (with `entrypoint` overriding its own), otherwise
    /// the project as inferred from its files.
    public static func loadOrInfer(file: String?, projectDirectory: String, entrypoint: String? = nil) throws -> ProjectConfig {
        let path = file ?? "\(projectDirectory)/fair.yaml"
        if file != nil || FileManager.default.fileExists(atPath: path) {
            var config = try load(file: path, projectDirectory: projectDirectory)
            if let entrypoint { config.entrypoint = entrypoint }
            return config
        }
        let chosen = try entrypoint ?? inferEntrypoint(in: projectDirectory)
        // Built through the same parser as a written fair.yaml, so every default is the same.
        let text = "entrypoint: \(Self.yamlString(chosen))\n"
        return try parse(text, file: path, projectDirectory: projectDirectory)
    }

    static func inferEntrypoint(in directory: String) throws -> String {
        let fileManager = FileManager.default
        for name in conventionalEntrypoints where fileManager.fileExists(atPath: "\(directory)/\(name)") { return name }
        let candidates = ((try? fileManager.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { ($0.hasSuffix(".py") || $0.hasSuffix(".ipynb")) && !$0.hasPrefix(".") }
            .sorted()
        if candidates.count == 1 { return candidates[0] }
        let found = candidates.isEmpty ? "no .py or .ipynb file" : "\(candidates.count) of them (\(candidates.prefix(5).joined(separator: ", ")))"
        throw BuildError.config(file: "\(directory)/fair.yaml", line: nil, field: "entrypoint",
                                message: "no fair.yaml, and no train.py, main.py or single script to run: found \(found); "
                                    + "name the script (`fair train SCRIPT.py`) or write fair.yaml with `entrypoint: SCRIPT.py`")
    }

    private static func yamlString(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }
}

/// What a command's project argument names: a directory, or a script or notebook in one
/// (`fair train train.py` runs that file, as `python train.py` would).
public struct ProjectArgument: Sendable, Equatable {
    public var directory: String
    public var entrypoint: String?

    public init(_ argument: String) {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory)
        if exists, !isDirectory.boolValue, argument.hasSuffix(".py") || argument.hasSuffix(".ipynb") {
            let url = URL(fileURLWithPath: argument)
            directory = url.deletingLastPathComponent().path
            entrypoint = url.lastPathComponent
        } else {
            directory = argument
            entrypoint = nil
        }
    }
}
