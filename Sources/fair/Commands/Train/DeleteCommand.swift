import ArgumentParser
import FairKube
import FairWorkloads
import Foundation

/// `fair delete JOB`: what `kubectl delete job` does for a training (its pods go with it, in the
/// background, and so does what the Job owns), or for a scheduled training's CronJob. The stored
/// model stays: models are deleted from the registry, never as a side effect.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a training Job and its pods, or a scheduled training's CronJob (the stored models stay).")

    @Argument(help: "The Job's name (as fair train printed it), or a scheduled training's CronJob.")
    var job: String

    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        try reportingFailures {
            let client = try cluster.client()
            let namespace = cluster.namespace(for: client)
            do {
                try client.delete(.jobs, namespace: namespace, name: job, propagation: "Background")
                Console.progress("deleted job \(job) in namespace \(namespace)")
                return
            } catch let error as KubeError where error.code == 404 {}
            do {
                try client.delete(.cronJobs, namespace: namespace, name: job, propagation: "Background")
                Console.progress("deleted scheduled training \(job) in namespace \(namespace)")
            } catch let error as KubeError where error.code == 404 {
                throw KubeError(code: 404, reason: "NotFound", message: "no training job or scheduled training \(job) in namespace \(namespace)")
            }
        }
    }
}
