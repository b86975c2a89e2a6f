import ArgumentParser
import FairKube
import FairWorkloads
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show where a training Job is: running, complete or failed, with its attempts and pods.",
        discussion: "Given a scheduled training (fair train --schedule), shows its schedule and its last runs.")

    @Argument(help: "The Job's name, or a scheduled training's CronJob.")
    var job: String

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Output format: text, json or yaml.")
    var outputFormat: TrainOutputFormat = .text

    func run() throws {
        try reportingFailures {
            let client = try cluster.client()
            let namespace = cluster.namespace(for: client)
            if (try? client.get(.jobs, namespace: namespace, name: self.job)) == nil, let cronJob = try client.cronJob(self.job, namespace: namespace) {
                let runs = try client.jobs(ofCronJob: cronJob, namespace: namespace).map { run in
                    JobStatusSummary(job: run, pods: (try? client.pods(ofJob: run.name ?? "", namespace: namespace)) ?? [])
                }
                let status = CronJobStatusSummary(cronJob: cronJob, runs: runs)
                try outputFormat.printResult(status.json)
                if outputFormat == .text { Console.result(status.text) }
                return
            }
            let job = try client.job(self.job, namespace: namespace)
            let pods = try client.pods(ofJob: self.job, namespace: namespace)
            let status = JobStatusSummary(job: job, pods: pods)
            try outputFormat.printResult(status.json)
            if outputFormat == .text { Console.result(status.text) }
            if status.state == "Failed" { throw ExitCode.failure }
        }
    }
}

/// A Job and its pods, said briefly.
struct JobStatusSummary {
    var json: JSONValue
    var state: String
    var text: String

    init(job: JSONValue, pods: [JSONValue]) {
        let conditions = job.value(at: "status.conditions")?.arrayValue ?? []
        let ended = conditions.first { ["Complete", "Failed"].contains($0["type"]?.stringValue ?? "") && $0["status"]?.stringValue == "True" }
        var state = ended?["type"]?.stringValue ?? (job.value(at: "status.active")?.intValue ?? 0 > 0 ? "Running" : "Pending")
        let problem = pods.lazy.compactMap { PodProblem.detect(in: $0) }.first
        if ended == nil, problem != nil { state = "Stuck" }
        self.state = state
        var object: [String: JSONValue] = [
            "job": .string(job.name ?? ""), "namespace": .string(job.namespace ?? ""), "state": .string(state),
            "active": .int(job.value(at: "status.active")?.intValue ?? 0),
            "succeeded": .int(job.value(at: "status.succeeded")?.intValue ?? 0),
            "failed": .int(job.value(at: "status.failed")?.intValue ?? 0),
            "backoffLimit": .int(job.value(at: "spec.backoffLimit")?.intValue ?? 6),
        ]
        for key in ["startTime", "completionTime"] {
            if let value = job.value(at: "status.\(key)") { object[key] = value }
        }
        if let reason = ended?["reason"] { object["reason"] = reason }
        if let message = ended?["message"] { object["message"] = message }
        if let problem { object["problem"] = .string(problem.description) }
        if let image = job.value(at: "metadata.annotations")?["fair.dev/image"] { object["image"] = image }
        // The model is stored only by a Job that completed; a failed one stored nothing, and a
        // running one will store it under this reference if it succeeds.
        let model = job.value(at: "metadata.annotations")?["fair.dev/model"]
        if state == "Complete", let model { object["model"] = model }
        if ended == nil, let model { object["modelOnCompletion"] = model }
        object["pods"] = .array(pods.map { pod in
            var entry: [String: JSONValue] = ["name": .string(pod.name ?? ""), "phase": pod.value(at: "status.phase") ?? "Pending"]
            if let node = pod.value(at: "spec.nodeName") { entry["node"] = node }
            return .object(entry)
        })
        json = .object(object)

        var lines = ["job \(job.name ?? "")  \(state)"]
        lines.append("  attempts: \(object["succeeded"]!.intValue!) succeeded, \(object["failed"]!.intValue!) failed, \(object["active"]!.intValue!) running (backoff limit \(object["backoffLimit"]!.intValue!))")
        if let reason = ended?["reason"]?.stringValue { lines.append("  reason: \(reason)\(ended?["message"]?.stringValue.map { ": \($0)" } ?? "")") }
        if let problem { lines.append("  problem: \(problem)") }
        if let image = object["image"]?.stringValue { lines.append("  image: \(image)") }
        if let model = object["model"]?.stringValue { lines.append("  model: \(model)") }
        if let model = object["modelOnCompletion"]?.stringValue { lines.append("  model: \(model) (stored when the job completes)") }
        for pod in pods {
            lines.append("  pod \(pod.name ?? "")  \(pod.value(at: "status.phase")?.stringValue ?? "Pending")\(pod.value(at: "spec.nodeName")?.stringValue.map { "  on \($0)" } ?? "")")
        }
        text = lines.joined(separator: "\n")
    }
}

/// A scheduled training: its schedule and its runs, newest last.
struct CronJobStatusSummary {
    var json: JSONValue
    var text: String

    init(cronJob: JSONValue, runs: [JobStatusSummary]) {
        var object: [String: JSONValue] = [
            "cronJob": .string(cronJob.name ?? ""), "namespace": .string(cronJob.namespace ?? ""),
            "schedule": cronJob.value(at: "spec.schedule") ?? "",
            "suspend": .bool(cronJob.value(at: "spec.suspend")?.boolValue ?? false),
            "runs": .array(runs.map(\.json)),
        ]
        for (key, path) in [("timeZone", "spec.timeZone"), ("lastScheduleTime", "status.lastScheduleTime"),
                            ("lastSuccessfulTime", "status.lastSuccessfulTime")] {
            if let value = cronJob.value(at: path) { object[key] = value }
        }
        json = .object(object)
        var lines = ["cronjob \(cronJob.name ?? "")  \(object["schedule"]?.stringValue ?? "")\(object["timeZone"]?.stringValue.map { " (\($0))" } ?? "")\(object["suspend"] == .bool(true) ? "  suspended" : "")"]
        if let last = object["lastScheduleTime"]?.stringValue { lines.append("  last scheduled: \(last)") }
        if let last = object["lastSuccessfulTime"]?.stringValue { lines.append("  last succeeded: \(last)") }
        if runs.isEmpty { lines.append("  no runs yet") }
        for run in runs {
            let model = run.json["model"]?.stringValue.map { "  model: \($0)" } ?? ""
            lines.append("  run \(run.json["job"]?.stringValue ?? "")  \(run.state)\(model)")
        }
        text = lines.joined(separator: "\n")
    }
}
