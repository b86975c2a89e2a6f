import ArgumentParser
import FairArchive
import FairBuild
import FairOCI
import Foundation

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an OCI image from a project directory (fair.yaml, code, requirements).",
        discussion: """
        Layers, base first: the base image's layers untouched, a deps layer when the project has a \
        requirements file (installed by pip for the base image's Python, cached), and a code layer \
        under the workdir. The same input always gives the same bytes and digest.
        Without --output or --layout the image is added to fair's local layout ($FAIR_HOME/images).
        """)

    @Argument(help: "The project directory, or a script or notebook in it to run (fair.yaml is optional).", completion: .file())
    var directory: String = "."

    @Option(name: [.customShort("f"), .long], help: "fair.yaml to use (default: DIR/fair.yaml).")
    var file: String?

    @Option(help: "Base image: scratch, oci:DIR[:TAG] or oci-archive:PATH[:TAG] (overrides fair.yaml).")
    var base: String?

    @Option(name: [.customShort("t"), .long], help: "Image name and tag, NAME[:TAG] (default: <name>:latest).")
    var tag: String?

    @Option(name: [.customShort("o"), .long], help: "Write an oci-archive (tar of an OCI layout) to this path.")
    var output: String?

    @Option(help: "Add the image to this OCI layout directory.")
    var layout: String?

    @Option(help: "Push the built image to this registry reference (HOST/REPO[:TAG]).")
    var push: String?

    @OptionGroup var registry: RegistryOptions

    @Option(help: "Layer compression: gzip or zstd.")
    var compression: String = "gzip"

    @Option(help: "Compression level (gzip 1-9, default 1; zstd 1-19, default 3).")
    var level: Int?

    @Option(help: "Output format: text or json.")
    var outputFormat: OutputFormat = .text

    @Flag(name: [.customShort("q"), .long], help: "Print only the digest.")
    var quiet = false

    func run() throws {
        Interrupts.install()
        try reportingFailures {
            guard let algorithm = CompressionAlgorithm(rawValue: compression) else {
                throw BuildError.invalidOption(option: "--compression", message: "\"\(compression)\" is not supported; use gzip or zstd")
            }
            let project = ProjectArgument(directory)
            var options = BuildOptions(projectDirectory: project.directory)
            options.entrypoint = project.entrypoint
            options.configFile = file
            options.base = base
            options.tag = tag
            options.outputArchive = output
            options.layoutDirectory = layout
            options.push = push
            options.compression = algorithm
            options.level = level
            options.epoch = try BuildOptions.epoch(from: ProcessInfo.processInfo.environment)

            let talk = outputFormat == .text && !quiet
            let display = TransferDisplay(verb: "pushing", quiet: !talk)
            var builder = ImageBuilder(options: options, registries: registry.clients(), log: { if talk { Console.progress($0) } })
            builder.pushEvents = display.handle
            let result: BuildResult
            do {
                result = try builder.build()
            } catch {
                display.finish()
                throw error
            }
            for warning in result.warnings { Console.warning(warning) }
            switch outputFormat {
            case .json:
                Console.result(try prettyJSON(result))
            case .text:
                if talk { report(result) }
                Console.result(result.digest.description)
            }
        }
    }

    private func report(_ result: BuildResult) {
        Console.progress("built \(result.tag) for \(result.platform) on \(result.base)")
        // The layer plan: base layers, deps, the project's own layers by rate of change, code.
        let width = result.layers.map(\.source.count).max() ?? 4
        for layer in result.layers {
            let files = layer.files.map { ", \($0) file\($0 == 1 ? "" : "s")" } ?? ""
            let note = layer.source == "base" ? "" : (layer.cached ? " (cached\(files))" : (files.isEmpty ? "" : " (\(files.dropFirst(2)))"))
            Console.progress("  \(layer.source.padding(toLength: width, withPad: " ", startingAt: 0))  \(layer.digest)  \(Console.humanSize(layer.size))\(note)")
        }
        if let archive = result.outputs.archive { Console.progress("wrote oci-archive:\(archive)") }
        if let layout = result.outputs.layout { Console.progress("added to oci:\(layout):\(result.tag)") }
        if let push = result.push {
            Console.progress("pushed \(push.reference) (\(Console.humanSize(push.bytesUploaded)) sent)")
        }
    }
}
