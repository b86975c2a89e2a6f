import FairKube
import FairNode
import Foundation

/// Node agents with the `fake` runtime (kubemark's hollow nodes): real registration,
/// heartbeats, pod watches and status reports, with containers that only pretend to run. They
/// share this process and its threads; their state lives in a temporary directory.
final class FakeNodes: @unchecked Sendable {
    static let label = "fair.dev/bench"

    let names: [String]
    private let agents: [NodeAgent]
    private let client: KubeClient
    private let directory: String

    private init(names: [String], agents: [NodeAgent], client: KubeClient, directory: String) {
        self.names = names
        self.agents = agents
        self.client = client
        self.directory = directory
    }

    /// Starts `count` agents with room for `podsPerNode` pods each (32 cpu, 256Gi).
    static func register(config: Kubeconfig, count: Int, podsPerNode: Int) throws -> FakeNodes {
        let directory = NSTemporaryDirectory() + "fair-bench-nodes-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let client = try KubeClient(config: config)
        var names: [String] = []
        var agents: [NodeAgent] = []
        for index in 0..<count {
            let name = String(format: "fair-bench-node-%03d", index)
            var options = NodeOptions(name: name, dataDirectory: "\(directory)/\(name)")
            // Each node its own /16 inside 127.0.0.0/8, away from the server's own node (127.20).
            options.podCIDR = "127.\(100 + index % 150).0.0/16"
            options.capacity = ["cpu": "32", "memory": "256Gi", "pods": String(podsPerNode)]
            options.labels = [label: "true"]
            let agent = try NodeAgent(client: client, options: options, runtime: FakeRuntime())
            try agent.start()
            names.append(name)
            agents.append(agent)
        }
        return FakeNodes(names: names, agents: agents, client: client, directory: directory)
    }

    func stop() {
        for agent in agents { agent.stop() }
    }

    /// Stops the agents, deletes their nodes and removes their state.
    func remove() {
        stop()
        for name in names { try? client.delete(.nodes, name: name) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
