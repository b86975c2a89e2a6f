import ArgumentParser
import FairBuild
import FairRegistry

/// Options every command that talks to registries shares.
struct RegistryOptions: ParsableArguments {
    @Option(help: "Blobs transferred in parallel.")
    var jobs: Int = 4

    @Option(name: .customLong("insecure-registry"), help: ArgumentHelp(
        "Use plain HTTP for this registry host (repeatable). Loopback hosts always use HTTP; FAIR_INSECURE_REGISTRIES adds more.",
        valueName: "host[:port]"))
    var insecureRegistries: [String] = []

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64, got \(jobs)") }
    }

    func clients(home: FairHome = FairHome()) -> RegistryClients {
        RegistryClients(store: home.blobStore, insecureHosts: Set(insecureRegistries), jobs: jobs)
    }
}
