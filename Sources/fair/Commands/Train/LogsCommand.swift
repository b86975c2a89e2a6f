import ArgumentParser
import FairKube
import FairWorkloads
import Foundation

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the output of a training Job's pods, attempt by attempt.",
        discussion: "With -f, follows until the Job ends and exits as fair train would: 0 when it completed, 1 when it failed.")

    @Argument(help: "The Job's name (as fair train printed it), or a scheduled training's CronJob (its latest run).")
    var job: String

    @Flag(name: [.customShort("f"), .long], help: "Follow the output until the Job ends.")
    var follow = false

    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        Interrupts.install()
        try reportingFailures {
            let client = try cluster.client()
            let namespace = cluster.namespace(for: client)
            var name = self.job
            // A scheduled training's name stands for its latest run.
            if (try? client.get(.jobs, namespace: namespace, name: name)) == nil, let cronJob = try client.cronJob(name, namespace: namespace) {
                guard let latest = try client.jobs(ofCronJob: cronJob, namespace: namespace).last?.name else {
                    Console.progress("cronjob \(name) has not run yet (schedule \(cronJob.value(at: "spec.schedule")?.stringValue ?? ""))")
                    return
                }
                Console.progress("cronjob \(name): its latest run, job \(latest)")
                name = latest
            }
            let job = try client.job(name, namespace: namespace)
            Interrupts.message = "stopped following job \(name)"
            let printer = JobOutputPrinter(logsToStandardOutput: true)
            var options = JobFollower.Options(namespace: namespace, name: name)
            options.containers = ["train", "model"]
            options.failsOnPodProblems = follow
            options.ranks = JobFollower.hasRanks(job)
            if !follow {
                try showSoFar(job: job, name: name, client: client, namespace: namespace, printer: printer)
                return
            }
            let outcome = try JobFollower(client: client, options: options, onLog: { printer.log(pod: $0, container: $1, bytes: $2) },
                                          onEvent: { printer.event($0) }).run()
            if outcome.state == .failed {
                Console.error("job \(name) failed: \([outcome.reason, outcome.message].compactMap { $0 }.joined(separator: ": "))")
                throw ExitCode.failure
            }
            if let reference = printer.modelResult?["reference"]?.stringValue { Console.progress("model stored: \(reference)") }
        }
    }

    /// Every started pod's output up to now, oldest attempt first.
    private func showSoFar(job: JSONValue, name jobName: String, client: KubeClient, namespace: String, printer: JobOutputPrinter) throws {
        let pods = try client.pods(ofJob: jobName, namespace: namespace)
        if pods.isEmpty { Console.progress("job \(jobName) has no pods (yet)") }
        let ranks = JobFollower.hasRanks(job)
        for (index, pod) in pods.enumerated() {
            guard let name = pod.name else { continue }
            let rank = JobFollower.rank(of: pod)
            if ranks {
                Console.progress("── [\(rank ?? 0)] pod \(name)")
            } else if pods.count > 1 {
                Console.progress("── attempt \(index + 1): pod \(name)")
            }
            for container in ["train", "model"] where JobFollower.state(of: container, in: pod)?["waiting"] == nil
                && JobFollower.state(of: container, in: pod) != nil {
                let lines = ranks ? LinePrefixer(prefix: "[\(rank ?? 0)] ") : nil
                let sink = SkippingSink { bytes in
                    if let lines { lines.feed(bytes) { printer.log(pod: name, container: container, bytes: $0) } }
                    else { printer.log(pod: name, container: container, bytes: bytes) }
                }
                try client.log(namespace: namespace, pod: name, container: container, sink: sink)
                lines?.flush { printer.log(pod: name, container: container, bytes: $0) }
            }
        }
        if let reference = printer.modelResult?["reference"]?.stringValue { Console.progress("model stored: \(reference)") }
    }
}
