import FairArchive
import FairBuild
import FairKube
import FairOCI
import Foundation

/// The serving image: the project's image (same base, deps and code layers, so the registry
/// already has them) plus one layer with fair's model server and model fetcher, which it runs.
enum ServingImage {
    static let directory = "opt/fair/serve"

    static func addition(predict: String, workdir: String) -> ImageAddition {
        let files = ["model-server.py", "fair-model.py"].map { name in
            LayerEntry(path: "\(directory)/\(name)", content: .bytes(Array((BuiltInTemplates.files[name] ?? "").utf8)), mode: 0o755)
        }
        return ImageAddition(
            source: "serve", files: files, entrypoint: ["python3", "/\(directory)/model-server.py"],
            env: [("FAIR_PREDICT", predict), ("FAIR_APP_DIR", workdir)], labels: ["dev.fair.role": "serve"])
    }

    static func buildAndPush(command: ServeCommand, predict: String, workdir: String, repository: String, talk: Bool) throws -> Digest {
        var options = BuildOptions(projectDirectory: command.directory)
        options.configFile = command.file
        options.base = command.base
        options.push = "\(repository):serve"
        options.epoch = try BuildOptions.epoch(from: ProcessInfo.processInfo.environment)
        options.addition = addition(predict: predict, workdir: workdir)
        let display = TransferDisplay(verb: "pushing", quiet: !talk)
        var builder = ImageBuilder(options: options, registries: command.registryOptions.clients(), log: { if talk { Console.progress($0) } })
        builder.pushEvents = display.handle
        defer { display.finish() }
        let result = try builder.build()
        for warning in result.warnings { Console.warning(warning) }
        return result.digest
    }
}
