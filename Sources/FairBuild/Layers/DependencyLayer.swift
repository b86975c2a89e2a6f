import FairArchive
import FairOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The deps layer: the project's requirements installed by pip for the base image's Python and
/// platform (not the build machine's), under `/opt/fair/site-packages`, which goes on PYTHONPATH.
/// It is cached by the hash of its inputs, so an unchanged requirements file is never reinstalled.
public struct DependencyLayer {
    public static let sitePackages = "/opt/fair/site-packages"

    /// The project's requirements file; nil when only `extraRequirements` are installed.
    public var requirementsPath: String?
    /// Requirement lines fair adds (`fair train --execute`'s nbclient and ipykernel).
    public var extraRequirements: [String] = []
    public var projectDirectory: String
    public var pythonVersion: String
    public var platform: Platform
    /// glibc version of the base, bounding which manylinux wheels can run there.
    public var glibcVersion: String

    public init(requirementsPath: String?, extraRequirements: [String] = [], projectDirectory: String, pythonVersion: String,
                platform: Platform, glibcVersion: String) {
        self.requirementsPath = requirementsPath
        self.extraRequirements = extraRequirements
        self.projectDirectory = projectDirectory
        self.pythonVersion = pythonVersion
        self.platform = platform
        self.glibcVersion = glibcVersion
    }

    var abiTag: String { "cp" + pythonVersion.replacingOccurrences(of: ".", with: "") }

    var machine: String {
        switch platform.architecture {
        case "amd64": return "x86_64"
        case "arm64": return "aarch64"
        default: return platform.architecture
        }
    }

    /// manylinux tags from the base's glibc down to 2.17 (manylinux2014), newest first.
    var platformTags: [String] {
        let minor = Int(glibcVersion.split(separator: ".").last ?? "28") ?? 28
        var tags = stride(from: max(minor, 17), through: 17, by: -1).map { "manylinux_2_\($0)_\(machine)" }
        tags += ["manylinux2014_\(machine)", "manylinux2010_\(machine)", "manylinux1_\(machine)", "linux_\(machine)"]
        return tags
    }

    /// The cache key: requirements bytes, Python version, platform, and how the layer is written.
    public func cacheKey(writer: LayerWriter) throws -> String {
        var requirements = Data()
        if let requirementsPath {
            guard let bytes = FileManager.default.contents(atPath: requirementsPath) else {
                throw BuildError.unreadable(path: requirementsPath, reason: "file missing or not readable")
            }
            requirements = bytes
        }
        if !extraRequirements.isEmpty {
            // Only a layer with extras hashes them: the keys of existing layers stay as they were.
            requirements.append(Data(("\n# fair adds\n" + extraRequirements.joined(separator: "\n")).utf8))
        }
        let hasher = DigestingSink()
        let parameters = ["fair-deps-v1", pythonVersion, platform.description, glibcVersion, writer.compression.rawValue,
                          String(writer.level), String(writer.mtime), Self.sitePackages].joined(separator: "\n")
        try hasher.write(parameters + "\n")
        try hasher.write(Array(requirements))
        try hasher.finish()
        return "deps-" + hasher.hexDigest!
    }

    /// Returns the cached layer or installs the requirements and builds it.
    public func build(writer: LayerWriter, cache: LayerCache, scratch: String, log: (String) -> Void) throws -> (BuiltLayer, cached: Bool) {
        let key = try cacheKey(writer: writer)
        if let cached = cache.lookup(key) { return (cached, true) }

        let target = "\(scratch)/site-packages"
        let what = ([requirementsPath.map { ($0 as NSString).lastPathComponent }].compactMap { $0 } + extraRequirements).joined(separator: ", ")
        log("installing \(what) for Python \(pythonVersion) on \(platform)")
        try runPip(target: target, log: log)
        try fixScriptInterpreters(in: "\(target)/bin")
        var walker = ContextWalker(root: target, rules: .none)
        let prefix = String(Self.sitePackages.dropFirst())
        let entries = try walker.walk().map { item in
            LayerEntry(
                path: "\(prefix)/\(item.relativePath)", content: item.content,
                mode: LayerEntry.normalisedMode(for: item.content, sourceMode: item.sourceMode))
        }
        let built = try writer.write(entries + [LayerEntry(path: prefix, content: .directory, mode: 0o755)],
                                     to: "\(scratch)/deps.layer")
        try? FileManager.default.removeItem(atPath: target)
        return (try cache.store(built, key: key), false)
    }

    /// pip writes console scripts (numpy's `f2py`, …) with the build machine's interpreter in the
    /// shebang, which does not exist in the image; point them at the image's python3 instead.
    private func fixScriptInterpreters(in directory: String) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            let path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size < 1 << 20,
                  let data = FileManager.default.contents(atPath: path),
                  data.starts(with: Array("#!".utf8)),
                  let newline = data.firstIndex(of: UInt8(ascii: "\n")) else { continue }
            let interpreter = String(decoding: data[..<newline], as: UTF8.self)
            guard interpreter.contains("python") else { continue }
            var rewritten = Data("#!/usr/bin/env python3".utf8)
            rewritten.append(data[newline...])
            try rewritten.write(to: URL(fileURLWithPath: path))
        }
    }

    private func runPip(target: String, log: (String) -> Void) throws {
        let python = ProcessInfo.processInfo.environment["FAIR_PIP_PYTHON"] ?? "python3"
        let sourceOnly = SourceOnlyWheels(python: python, projectDirectory: projectDirectory, directory: "\(target)-wheels")
        var arguments = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-compile",
                         "--no-warn-script-location", "--target", target,
                         "--python-version", pythonVersion, "--implementation", "cp",
                         "--abi", abiTag, "--abi", "abi3", "--abi", "none", "--only-binary=:all:"]
        for tag in platformTags { arguments += ["--platform", tag] }
        arguments += ["--find-links", sourceOnly.directory]
        if let requirementsPath { arguments += ["-r", requirementsPath] }
        arguments += extraRequirements
        try FileManager.default.createDirectory(atPath: sourceOnly.directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: sourceOnly.directory) }

        // Each requirement that exists only as source is built into a wheel (when pure Python)
        // and the install tried again; a few at most, each named in the build's output.
        var built: Set<String> = []
        while true {
            do {
                try? FileManager.default.removeItem(atPath: target)
                try ToolRun(executable: "/usr/bin/env", arguments: arguments, workingDirectory: projectDirectory)
                    .run(logPath: "\(target).log")
                return
            } catch let failure as ToolRun.Failure {
                if let requirement = SourceOnlyWheels.missingRequirement(in: failure.log), !built.contains(requirement), built.count < 10 {
                    built.insert(requirement)
                    let wheel = try sourceOnly.build(requirement, log: "\(target)-wheel.log")
                    log("\(requirement) has no wheel on the index; built \(wheel) from its source (pure Python, fits any image)")
                    continue
                }
                throw Self.explain(failure, python: python, pythonVersion: pythonVersion, platform: platform.description)
            }
        }
    }

    /// pip's failure as the build reports it: its ERROR lines, or its last lines.
    private static func explain(_ failure: ToolRun.Failure, python: String, pythonVersion: String, platform: String) -> BuildError {
        if failure.log.contains("No module named pip") || failure.status == 127 {
            return BuildError.toolMissing(tool: "pip (\(python) -m pip)", hint: "install python3-pip on the build machine")
        }
        let errors = failure.log.split(separator: "\n").filter { $0.hasPrefix("ERROR:") }
            .map { $0.dropFirst("ERROR:".count).trimmingCharacters(in: .whitespaces) }
        let reason = errors.isEmpty ? failure.log.split(separator: "\n").suffix(3).joined(separator: " ") : errors.joined(separator: "; ")
        return BuildError.pip(reason: "\(reason) (pip exit \(failure.status); target Python \(pythonVersion), \(platform), only binary wheels)")
    }
}
