import ArgumentParser
import FairBuild
import FairKube
import FairWorkloads
import FairRegistry
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, show and pull the models fair train stored (OCI artifacts under REGISTRY/models/).",
        subcommands: [ModelsList.self, ModelsShow.self, ModelsPull.self, ModelsCompare.self])
}

/// Where models are: --registry, else the cluster's published registry.
struct ModelRegistryOptions: ParsableArguments {
    @Option(help: "Registry HOST[:PORT] (default: the cluster's, from the kubeconfig).")
    var registry: String?

    @Option(help: "The kubeconfig to find the cluster's registry with.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use.")
    var context: String?

    @OptionGroup var registryOptions: RegistryOptions

    func models() throws -> ModelRegistry {
        let host: String
        if let registry {
            host = registry
        } else {
            let client = try KubeClient(config: try Kubeconfig.load(path: kubeconfig, context: context))
            host = try TargetRegistry.resolve(flag: nil, project: nil, client: client).push
        }
        return ModelRegistry(client: try registryOptions.clients().client(for: host))
    }
}

struct ModelsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The models and their versions.")

    @OptionGroup var options: ModelRegistryOptions

    @Option(help: "Output format: text or json.")
    var outputFormat: OutputFormat = .text

    func run() throws {
        try reportingFailures {
            let registry = try options.models()
            var rows: [JSONValue] = []
            for name in try registry.names() {
                let versions = try registry.versions(of: name)
                rows.append(["name": .string(name), "versions": .array(versions.map { .string($0) })])
            }
            switch outputFormat {
            case .json: Console.json(.array(rows))
            case .text:
                if rows.isEmpty {
                    Console.progress("no models in \(registry.client.host) yet (fair train stores them)")
                    return
                }
                // Columns as kubectl prints them: a header, padded to the widest cell.
                var table = [["NAME", "LATEST", "VERSIONS"]]
                for row in rows {
                    let versions = row["versions"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    table.append([row["name"]?.stringValue ?? "", versions.last ?? "-", versions.joined(separator: " ")])
                }
                for line in Console.columns(table) { Console.result(line) }
            }
        }
    }
}

struct ModelsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One model version: digest, size, job, image, metrics.")

    @Argument(help: "NAME[:VERSION] (default version: latest).")
    var model: String

    @OptionGroup var options: ModelRegistryOptions

    @Option(help: "Output format: text or json.")
    var outputFormat: OutputFormat = .text

    @Flag(help: "Each metric the training logged: its last value and a sparkline of its course (json: every value).")
    var metrics = false

    @Option(help: "Write a chart of the metrics to FILE.png or FILE.svg.")
    var plot: String?

    func run() throws {
        try reportingFailures {
            let plotFormat = try plot.map { try MetricPlot.Format(path: $0) }
            let (name, version) = try ServeRun.parseModel(model)
            let registry = try options.models()
            let found = try registry.resolve(name, version: version)
            var object: [String: JSONValue] = [
                "name": .string(found.name), "version": .string(found.version), "digest": .string(found.digest.description),
                "layer": .string(found.layer.description), "size": .int(found.size),
                "annotations": .object(found.annotations.mapValues { .string($0) }),
            ]
            if let metrics = found.metrics, let parsed = try? JSONCoding.decode(Array(metrics.utf8)) { object["metrics"] = parsed }
            let series = metrics || plot != nil ? try ModelMetrics.series(of: found, in: registry) : []
            if metrics { object["series"] = ModelMetrics.json(series) }
            if let plot, let plotFormat {
                try MetricPlot.write(MetricChart(title: "\(found.name):\(found.version)", series: series), to: plot, format: plotFormat)
            }
            switch outputFormat {
            case .json: Console.json(.object(object))
            case .text:
                var lines = ["model \(found.name):\(found.version)", "  digest:  \(found.digest)", "  size:    \(Console.humanSize(found.size))"]
                if let created = found.created { lines.append("  created: \(created)") }
                if let failure = found.failure { lines.append("  failed:  \(failure) (the run's outputs as far as it ran; not a version)") }
                if let job = found.job { lines.append("  job:     \(job)") }
                if let image = found.image { lines.append("  image:   \(image)") }
                if metrics {
                    lines.append(series.isEmpty ? "  metrics: none logged" : "  metrics:")
                    lines += ModelMetrics.table(series).map { "    " + $0 }
                } else if let metrics = found.metrics {
                    lines.append("  metrics: \(metrics)")
                }
                Console.result(lines.joined(separator: "\n"))
                if let plot { Console.progress("wrote \(plot)") }
            }
        }
    }
}

struct ModelsPull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Download a model version into a new directory, or only its executed notebook.",
        discussion: "NAME:failed-JOB is what a failed `fair train --execute` stored: the notebook as far as it ran, error included.")

    @Argument(help: "NAME[:VERSION] (default version: latest); VERSION may also be a failed run's tag, failed-JOB.")
    var model: String

    @Option(name: [.customShort("o"), .long], help: "The directory to create (default: ./NAME-VERSION); with --notebook, the file to write (default: ./NAME-VERSION.ipynb).")
    var output: String?

    @Flag(help: "Only the executed notebook that `fair train --execute` stored with the model (outputs, errors and images included).")
    var notebook = false

    @OptionGroup var options: ModelRegistryOptions

    func run() throws {
        Interrupts.install()
        try reportingFailures {
            let (name, version) = try ServeRun.parseModel(model)
            let registry = try options.models()
            let found = try registry.resolve(name, version: version)
            if notebook {
                let file = output ?? "\(name)-\(found.version).ipynb"
                try ModelNotebook.write(of: found, in: registry, to: file)
                Console.progress("pulled the executed notebook of \(found.name):\(found.version) (\(found.digest))")
                Console.result(file)
                return
            }
            let directory = output ?? "\(name)-\(found.version)"
            let summary = try registry.pull(found, into: directory, store: FairHome().blobStore)
            Console.progress("pulled \(found.name):\(found.version) (\(found.digest)): \(summary.files) files")
            Console.result(directory)
        }
    }
}
