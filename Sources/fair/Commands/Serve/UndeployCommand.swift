import ArgumentParser
import FairKube
import FairWorkloads
import Foundation

struct UndeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undeploy",
        abstract: "Remove a served model: its Deployment (and pods) and its Service.")

    @Argument(help: "The Service fair serve created.")
    var service: String

    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        try reportingFailures {
            let client = try cluster.client()
            let namespace = cluster.namespace(for: client)
            var removed: [String] = []
            for (resource, kind) in [(APIResource.deployments, "deployment"), (APIResource.services, "service")] {
                do {
                    try client.delete(resource, namespace: namespace, name: service, propagation: "Foreground")
                    removed.append(kind)
                } catch let error as KubeError where error.code == 404 {
                    continue
                }
            }
            guard !removed.isEmpty else {
                throw KubeError(code: 404, reason: "NotFound", message: "nothing named \(service) is served in namespace \(namespace)")
            }
            Console.progress("removed \(removed.joined(separator: " and ")) \(service) from namespace \(namespace)")
        }
    }
}
