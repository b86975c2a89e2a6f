import FairHTTP
import Foundation

/// One registry client per host, sharing one HTTP client (and so its connections), with
/// credentials from the docker configuration. What every command that talks to registries uses.
public final class RegistryClients: @unchecked Sendable {
    public let http: HTTPClient
    public let dockerConfig: DockerConfig
    public let insecureHosts: Set<String>
    public let store: BlobStore
    public var jobs: Int
    /// Credentials for a host the docker configuration has none for (the bundled server's
    /// registry, whose credential is the cluster's); asked once per host.
    public var fallbackCredentials: (@Sendable (String) -> Credentials?)?
    private var clients: [String: RegistryClient] = [:]
    private let lock = NSLock()

    public init(store: BlobStore, dockerConfig: DockerConfig = DockerConfig(), insecureHosts: Set<String> = [],
                jobs: Int = 4, http: HTTPClient = HTTPClient()) {
        self.store = store
        self.dockerConfig = dockerConfig
        self.insecureHosts = insecureHosts.union(RegistryEndpoint.insecureHostsFromEnvironment())
        self.jobs = jobs
        self.http = http
    }

    public func client(for host: String) throws -> RegistryClient {
        lock.lock()
        if let existing = clients[host] {
            lock.unlock()
            return existing
        }
        lock.unlock()
        let credentials = try dockerConfig.credentials(for: host) ?? fallbackCredentials?(host)
        let client = RegistryClient(host: host, credentials: credentials, http: http, insecureHosts: insecureHosts)
        lock.lock(); defer { lock.unlock() }
        clients[host] = clients[host] ?? client
        return clients[host]!
    }

    public func puller(for host: String, events: ((TransferEvent) -> Void)? = nil) throws -> ImagePuller {
        ImagePuller(client: try client(for: host), jobs: jobs, store: store, events: events)
    }

    /// A puller with credentials of its own (a pod's pull secret): its client, and so its
    /// tokens, are not shared with other pulls.
    public func puller(for host: String, credentials: Credentials) -> ImagePuller {
        ImagePuller(client: RegistryClient(host: host, credentials: credentials, http: http, insecureHosts: insecureHosts),
                    jobs: jobs, store: store, events: nil)
    }

    public func pusher(for host: String, events: ((TransferEvent) -> Void)? = nil) throws -> ImagePusher {
        ImagePusher(client: try client(for: host), jobs: jobs, store: store, events: events)
    }
}
