@testable import FairNode
import FairKube
import Foundation
import XCTest

/// Each test gets its own API server; agents it starts are stopped (and the server removed)
/// however the test ends.
class AgentTestCase: XCTestCase {
    var cluster: TestCluster!
    private var agents: [NodeAgent] = []

    override func setUp() async throws {
        cluster = try await TestCluster.start()
    }

    override func tearDown() async throws {
        for agent in agents { agent.stop() }
        agents = []
        // Staged subPaths are bind mounts: unmounted before the test directory is deleted, so
        // the delete never reaches through one.
        if let cluster { HostMounts.unmountAll(under: cluster.directory) }
        await cluster?.stop()
    }

    var client: KubeClient { cluster.client }

    /// Options with short intervals, so tests see heartbeats, exits and back-offs in seconds.
    func quickOptions(_ name: String, podCIDR: String = "127.20.0.0/16") -> NodeOptions {
        var options = NodeOptions(name: name, dataDirectory: cluster.nodeDirectory(name))
        options.podCIDR = podCIDR
        options.heartbeatInterval = 1
        options.relistInterval = 0.1
        options.crashBackOffInitial = 1
        options.crashBackOffMax = 2
        options.imagePullBackOffInitial = 1
        options.configRetryInterval = 0.5
        return options
    }

    @discardableResult
    func startAgent(_ options: NodeOptions, runtime: ContainerRuntime) throws -> NodeAgent {
        let agent = try NodeAgent(client: client, options: options, runtime: runtime)
        agents.append(agent)
        try agent.start()
        return agent
    }

    func stopAgent(_ agent: NodeAgent) {
        agent.stop()
    }

    func eventually<T>(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                       _ read: () -> T, until condition: (T) -> Bool) -> T {
        cluster.eventually(what, timeout: timeout, file: file, line: line, read, until: condition)
    }

    /// Waits for the pod to be reported with `phase` and returns it.
    @discardableResult
    func waitForPhase(_ pod: String, _ phase: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        eventually("pod \(pod) \(phase)", timeout: timeout, file: file, line: line, { cluster.pod(pod) }, until: { $0?.phase == phase })
    }
}
