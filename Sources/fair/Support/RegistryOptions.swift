import ArgumentParser
import FairBuild
import FairKube
import FairWorkloads
import FairRegistry

/// How to reach registries: what every command that talks to one shares (login among them).
struct RegistryConnectionOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: ArgumentHelp(
        "Use plain HTTP for this registry host (repeatable). Loopback hosts always use HTTP; FAIR_INSECURE_REGISTRIES adds more.",
        valueName: "host[:port]"))
    var insecureRegistries: [String] = []

    func clients(home: FairHome = FairHome(), jobs: Int = RegistryOptions.defaultJobs) -> RegistryClients {
        let clients = RegistryClients(store: home.blobStore, insecureHosts: Set(insecureRegistries), jobs: jobs)
        clients.fallbackCredentials = { host in ClusterRegistryCredentials.lookup(host: host) }
        return clients
    }
}

/// Options of the commands that move blobs: the connection, and how many transfers at once.
struct RegistryOptions: ParsableArguments {
    static let defaultJobs = 4

    @Option(help: "Blobs transferred in parallel.")
    var jobs: Int = RegistryOptions.defaultJobs

    @OptionGroup var connection: RegistryConnectionOptions

    var insecureRegistries: [String] { connection.insecureRegistries }

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64, got \(jobs)") }
    }

    func clients(home: FairHome = FairHome()) -> RegistryClients {
        connection.clients(home: home, jobs: jobs)
    }

    /// Clients that give the cluster's own registry the cluster's credential (train and serve
    /// hold a client for the cluster they were pointed at, whichever kubeconfig that came from).
    func clients(cluster: KubeClient, registryHost: String) -> RegistryClients {
        let clients = clients()
        let credentials = ClusterRegistryCredentials.forCluster(cluster, host: registryHost)
        clients.fallbackCredentials = { host in host == registryHost ? credentials : ClusterRegistryCredentials.lookup(host: host) }
        return clients
    }
}
