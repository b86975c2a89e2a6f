import Foundation
import Yams

/// A project's `fair.yaml`: what to run, on which base, with which environment. The `train` and
/// `serve` sections are read and checked here too, so a typo in them fails the build early.
public struct ProjectConfig: Sendable, Equatable {
    public var name: String
    public var base: String?
    public var entrypoint: String
    public var args: [String]
    public var env: [EnvironmentVariable]
    public var workdir: String
    public var labels: [String: String]
    /// Path of the pip requirements file, relative to the project; nil when the project has none.
    public var requirements: String?
    /// Overrides the Python version read from the base image, e.g. "3.11".
    public var python: String?
    public var platform: String?
    public var source: String?
    public var train: TrainSettings
    public var serve: ServeSettings
    /// `layers:`, the project's files layered by rate of change; nil: `LayerRule.defaults`.
    public var layers: [LayerRule]? = nil

    public struct EnvironmentVariable: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct TrainSettings: Sendable, Equatable {
        public var cpu: String?
        public var memory: String?
        public var gpu: Int?
        public var env: [EnvironmentVariable] = []
        public var nodeSelector: [String: String] = [:]
        public var backoffLimit: Int?
        public var activeDeadlineSeconds: Int?
        /// Processes that train together (`fair train --workers`), each a rank of an Indexed Job.
        public var workers: Int?
        public var namespace: String?
        public var registry: String?
        public var template: String?
        public var secrets: [SecretUse] = []

        /// Beyond this, one machine's control plane is the wrong tool (and kube caps Indexed Jobs' parallelism far higher).
        public static let maximumWorkers = 256
    }

    public struct ServeSettings: Sendable, Equatable {
        public var predict: String?
        public var replicas: Int?
        public var cpu: String?
        public var memory: String?
        public var port: Int?
        public var template: String?
        public var secrets: [SecretUse] = []
    }

    static let topLevelKeys = [
        "name", "base", "entrypoint", "args", "env", "workdir", "labels", "requirements", "python",
        "platform", "source", "train", "serve", "layers",
    ]
    static let trainKeys = [
        "cpu", "memory", "gpu", "env", "nodeSelector", "backoffLimit", "activeDeadlineSeconds", "workers", "namespace",
        "registry", "template", "secrets",
    ]
    static let serveKeys = ["predict", "replicas", "cpu", "memory", "port", "template", "secrets"]

    /// Loads `file` for the project in `projectDirectory`.
    public static func load(file: String, projectDirectory: String) throws -> ProjectConfig {
        guard FileManager.default.fileExists(atPath: file) else { throw BuildError.configNotFound(file) }
        try FileSizeLimit.check(file, limit: FileSizeLimit.projectConfig, kind: "a fair.yaml")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw BuildError.unreadable(path: file, reason: "permission denied")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BuildError.config(file: file, line: nil, field: "", message: "not UTF-8 text")
        }
        return try parse(text, file: file, projectDirectory: projectDirectory)
    }

    public static func parse(_ text: String, file: String, projectDirectory: String) throws -> ProjectConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw BuildError.config(file: file, line: nil, field: "", message: "the file is empty; it needs at least `entrypoint: train.py`")
            }
            root = node
        } catch let error as YamlError {
            throw BuildError.config(file: file, line: yamlErrorLine(error), field: "", message: "invalid YAML: \(yamlProblem(error))")
        }
        let fields = try YAMLFields(file: file, node: root)
        try fields.rejectUnknownKeys(topLevelKeys)

        guard let entrypoint = try fields.string("entrypoint"), !entrypoint.isEmpty else {
            throw BuildError.config(file: file, line: nil, field: "entrypoint", message: "required: the .py or .ipynb file to run, e.g. `entrypoint: train.py`")
        }
        guard entrypoint.hasSuffix(".py") || entrypoint.hasSuffix(".ipynb") else {
            throw fields.error("entrypoint", fields.value("entrypoint"), "must be a .py script or an .ipynb notebook, got \"\(entrypoint)\"")
        }
        let defaultName = URL(fileURLWithPath: projectDirectory).standardizedFileURL.lastPathComponent
        let name = try fields.string("name") ?? defaultName
        let workdir = try fields.string("workdir") ?? "/app"
        guard workdir.hasPrefix("/"), !workdir.split(separator: "/").contains("..") else {
            throw fields.error("workdir", fields.value("workdir"), "must be an absolute path inside the image, got \"\(workdir)\"")
        }
        var requirements = try fields.string("requirements")
        if requirements == nil, FileManager.default.fileExists(atPath: projectDirectory + "/requirements.txt") {
            requirements = "requirements.txt"
        }
        if let platform = try fields.string("platform"), platform.split(separator: "/").count < 2 {
            throw fields.error("platform", fields.value("platform"), "expected os/arch, e.g. linux/amd64")
        }

        var config = ProjectConfig(
            name: name,
            base: try fields.string("base"),
            entrypoint: entrypoint,
            args: try fields.stringList("args") ?? [],
            env: try environment(fields, "env"),
            workdir: workdir.count > 1 && workdir.hasSuffix("/") ? String(workdir.dropLast()) : workdir,
            labels: Dictionary(try fields.stringMap("labels") ?? [], uniquingKeysWith: { _, last in last }),
            requirements: requirements,
            python: try fields.string("python"),
            platform: try fields.string("platform"),
            source: try fields.string("source"),
            train: TrainSettings(),
            serve: ServeSettings(),
            layers: try LayerRule.parse(fields))

        if let train = try fields.section("train") {
            try train.rejectUnknownKeys(trainKeys)
            config.train = TrainSettings(
                cpu: try train.string("cpu"), memory: try train.string("memory"),
                gpu: try train.int("gpu", range: 0...64), env: try environment(train, "env"),
                nodeSelector: Dictionary(try train.stringMap("nodeSelector") ?? [], uniquingKeysWith: { _, last in last }),
                backoffLimit: try train.int("backoffLimit", range: 0...100),
                activeDeadlineSeconds: try train.int("activeDeadlineSeconds", range: 1...Int(Int32.max)),
                workers: try train.int("workers", range: 1...TrainSettings.maximumWorkers),
                namespace: try train.string("namespace"), registry: try train.string("registry"),
                template: try train.string("template"), secrets: try secrets(train))
        }
        if let serve = try fields.section("serve") {
            try serve.rejectUnknownKeys(serveKeys)
            config.serve = ServeSettings(
                predict: try serve.string("predict"), replicas: try serve.int("replicas", range: 0...1000),
                cpu: try serve.string("cpu"), memory: try serve.string("memory"),
                port: try serve.int("port", range: 1...65535), template: try serve.string("template"),
                secrets: try secrets(serve))
        }
        return config
    }

    private static func environment(_ fields: YAMLFields, _ key: String) throws -> [EnvironmentVariable] {
        try (fields.stringMap(key) ?? []).map { name, value in
            guard !name.isEmpty, !name.contains("="), name.first.map({ !$0.isNumber }) ?? false else {
                throw fields.error(key, fields.value(key), "invalid environment variable name \"\(name)\"")
            }
            return EnvironmentVariable(name: name, value: value)
        }
    }

    /// `secrets:` — a list of `NAME` (every key as env) and `VAR=NAME:KEY` entries.
    private static func secrets(_ fields: YAMLFields) throws -> [SecretUse] {
        try (fields.stringList("secrets") ?? []).map { entry in
            do {
                return try SecretUse(parsing: entry)
            } catch let error as SecretUseError {
                throw fields.error("secrets", fields.value("secrets"), error.description)
            }
        }
    }

    private static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _): return mark.line
        default: return nil
        }
    }

    private static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        default:
            return "\(error)"
        }
    }
}
