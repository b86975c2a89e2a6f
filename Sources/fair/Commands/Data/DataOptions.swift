import ArgumentParser

/// What `fair data push` and `pull` share: the cluster (as `fair train` reaches it), the data
/// pod's image and the registry it goes to, how many files move at once, and the output.
struct DataOptions: ParsableArguments {
    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("The data pod's image; any image with python3 (default: fair's base image, pushed to the cluster's registry).",
                               valueName: "image"))
    var image: String?

    @Option(help: "Registry HOST[:PORT] the base image goes to (default: the cluster's).")
    var registry: String?

    @OptionGroup var registryConnection: RegistryConnectionOptions

    @Option(help: "Files (and base image blobs) transferred in parallel.")
    var jobs: Int = 4

    @Option(help: "Seconds the data pod may take to start (its image may have to be pulled first).")
    var timeout: Int = 300

    @Option(help: "Output format: text or json (a summary of the transfer on standard output).")
    var outputFormat: OutputFormat = .text

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64, got \(jobs)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    }
}
