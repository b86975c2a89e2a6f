import ArgumentParser
import FairKube
import FairWorkloads
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a trained model behind an Open Inference Protocol endpoint.",
        discussion: """
        Builds a serving image from the project (its base, deps and code, plus fair's model server), \
        renders a Deployment and a Service from Templates/, creates or updates them, and waits for the \
        rollout. Serving a new version rolls the pods over without dropping requests. The project's \
        fair.yaml names the predict function: serve: {predict: predict.py:predict}.
        """)

    @Argument(help: "The model, NAME[:VERSION] (VERSION: vN or latest; default latest).")
    var model: String

    @Argument(help: "The project directory (its code and predict function).", completion: .directory)
    var directory: String = "."

    @Option(name: [.customShort("f"), .long], help: "fair.yaml to use (default: DIR/fair.yaml).")
    var file: String?

    @Option(help: "Base image (overrides fair.yaml).")
    var base: String?

    @Option(help: "Registry HOST[:PORT] of the model and the serving image (default: train.registry, else the cluster's).")
    var registry: String?

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "The Deployment's and Service's name (default: the model's name).")
    var name: String?

    @Option(help: "Pods to run (default: serve.replicas, else 1).")
    var replicas: Int?

    @Option(help: "CPU to request per pod, e.g. 500m.")
    var cpu: String?

    @Option(help: "Memory to request (and limit) per pod, e.g. 512Mi.")
    var memory: String?

    @Option(help: "The port the model server listens on in its pod (default: serve.port, else 8080).")
    var port: Int?

    @Option(help: "Seconds to wait for the rollout.")
    var timeout: Int = 300

    @Flag(help: "Build and push, then print the manifests instead of applying them (for kubectl apply -f -).")
    var dryRun = false

    @Option(help: "Output format: text, json or yaml.")
    var outputFormat: TrainOutputFormat = .text

    @OptionGroup var secretOptions: SecretOptions

    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        if let replicas, !(0...1000).contains(replicas) { throw ValidationError("--replicas must be between 0 and 1000, got \(replicas)") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535, got \(port)") }
        if let name, !KubernetesNames.isValid(name) {
            throw ValidationError("--name \(name) is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        Interrupts.install()
        try reportingFailures { try ServeRun(command: self).run() }
    }
}
