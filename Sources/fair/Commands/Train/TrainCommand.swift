import ArgumentParser
import FairBuild
import FairKube
import FairWorkloads
import Foundation

extension TrainingOperator: ExpressibleByArgument {}

enum TrainOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, yaml
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Build and push the project, run it as a Kubernetes Job, follow its output, store its model.",
        discussion: """
        The image goes to --registry, else fair.yaml's train.registry, else the registry the cluster \
        publishes (fair server's own). The Job is rendered from Templates/job.yaml (or train.template) \
        and sent to the kubeconfig's API server: the bundled one or any Kubernetes cluster. What the \
        script writes to $FAIR_MODEL_DIR is stored as an OCI artifact, REGISTRY/models/NAME:vN and :latest.
        Exits 0 when the Job completes, 1 when it fails or cannot start, with the reason.
        """)

    @Argument(help: "The project directory, or a script or notebook in it to run (fair.yaml is optional).", completion: .file())
    var directory: String = "."

    @Option(name: [.customShort("f"), .long], help: "fair.yaml to use (default: DIR/fair.yaml).")
    var file: String?

    @Option(help: "Base image (overrides fair.yaml).")
    var base: String?

    @Option(help: "Registry HOST[:PORT] for the image and the model (default: train.registry, else the cluster's).")
    var registry: String?

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "The Job's name (default: the project's name and a random suffix).")
    var name: String?

    @Option(help: "CPU to request, e.g. 500m or 2.")
    var cpu: String?

    @Option(help: "Memory to request (and limit), e.g. 512Mi or 4Gi.")
    var memory: String?

    @Option(help: "GPUs (nvidia.com/gpu) to request.")
    var gpu: Int?

    @Option(name: .customLong("env"), help: "An environment variable, K=V (repeatable; wins over fair.yaml).")
    var env: [String] = []

    @OptionGroup var secretOptions: SecretOptions

    @Option(name: .customLong("mount"), help: ArgumentHelp(
        "Data for the training container, SOURCE:PATH[:ro|:rw] (repeatable).",
        discussion: "SOURCE is a local directory or file (this machine's fair server only; read-only unless :rw) or pvc:CLAIM, a PersistentVolumeClaim in the Job's namespace (any cluster; read-write unless :ro)."))
    var mounts: [String] = []

    @Option(name: .customLong("node-selector"), help: "A node label the pod must run on, K=V (repeatable).")
    var nodeSelector: [String] = []

    @Option(help: ArgumentHelp("Retrain on a schedule: a CronJob whose runs are what fair train would run, in standard cron syntax (\"0 3 * * *\", @daily).",
                               discussion: "Each run stores the next version of the model. Returns once the CronJob is made; see its runs with fair status NAME and fair logs NAME."))
    var schedule: String?

    @Option(name: .customLong("time-zone"), help: "The IANA time zone of --schedule (default: the cluster's).")
    var timeZone: String?

    @Option(help: "Retries before the Job fails (with --workers: retries of each worker, default 1).")
    var backoffLimit: Int?

    @Option(help: ArgumentHelp("Processes that train together (data-parallel, parameter servers): an Indexed Job whose workers start together and find each other by DNS.",
                               discussion: "Each gets RANK, WORLD_SIZE, MASTER_ADDR (rank 0's name), MASTER_PORT and TF_CONFIG; their output is shown prefixed by rank ([0] …); rank 0 stores the model. Default: fair.yaml's train.workers, else 1."))
    var workers: Int?

    @Option(help: "With --workers: the rank whose $FAIR_MODEL_DIR is stored as the model (default 0).")
    var modelRank: Int?

    @Option(help: ArgumentHelp("Run the workers as Kubeflow training-operator's resource instead of an Indexed Job: pytorchjob or tfjob (kubeflow.org/v1; the cluster must run that operator).",
                               discussion: "The operator sets the rendezvous (MASTER_ADDR, RANK, WORLD_SIZE; TF_CONFIG); the leader (Master, Chief) stores the model after training. fair creates it and returns; follow its pods with kubectl."))
    var `operator`: TrainingOperator?

    @Flag(help: ArgumentHelp("Run the notebook with a real Jupyter kernel in the pod instead of as a script, and store it executed (outputs, errors, images) with the model as notebook.ipynb.",
                             discussion: "nbclient and ipykernel go into the image's deps layer; a failing cell fails the Job and is named."))
    var execute = false

    @Option(name: [.customShort("p"), .customLong("parameter")], parsing: .upToNextOption,
            help: ArgumentHelp("With --execute: NAME VALUE, set after the notebook's cell tagged `parameters` (repeatable, as papermill's -p).",
                               valueName: "name value"))
    var parameters: [String] = []

    @Flag(help: "Return once the Job is created, printing its name.")
    var detach = false

    @Flag(help: "Delete the Job and its pods once it has ended.")
    var rm = false

    @Flag(help: "Build and push, then print the manifests instead of creating them (for kubectl apply -f -).")
    var dryRun = false

    @Option(help: "Output format: text, json or yaml.")
    var outputFormat: TrainOutputFormat = .text

    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        if let gpu, !(0...64).contains(gpu) { throw ValidationError("--gpu must be between 0 and 64, got \(gpu)") }
        if let workers, !(1...ProjectConfig.TrainSettings.maximumWorkers).contains(workers) {
            throw ValidationError("--workers must be between 1 and \(ProjectConfig.TrainSettings.maximumWorkers), got \(workers)")
        }
        // Its upper bound is the worker count, which fair.yaml may give: checked once it is known.
        if let modelRank, modelRank < 0 { throw ValidationError("--model-rank must be 0 or more, got \(modelRank)") }
        if let backoffLimit, !(0...100).contains(backoffLimit) { throw ValidationError("--backoff-limit must be between 0 and 100, got \(backoffLimit)") }
        if let name, !KubernetesNames.isValid(name) {
            throw ValidationError("--name \(name) is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63)")
        }
        if detach && rm { throw ValidationError("--rm needs fair to see the Job end; it cannot be combined with --detach") }
        for pair in env + nodeSelector where !pair.contains("=") {
            throw ValidationError("\(pair) is not K=V")
        }
    }

    func run() throws {
        Interrupts.install()
        try reportingFailures {
            let code = try TrainRun(command: self).run()
            if code != 0 { throw ExitCode(code) }
        }
    }
}
