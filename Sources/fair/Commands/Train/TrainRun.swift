import FairBuild
import FairKube
import FairWorkloads
import Foundation

/// One `fair train`: build and push the image, render the Job, then create it and follow it (or
/// print it, for --dry-run). Returns the exit code.
struct TrainRun {
    let command: TrainCommand

    func run() throws -> Int32 {
        let started = Date()
        if command.schedule != nil && (command.rm || command.detach) {
            throw InputError(description: "--schedule makes a CronJob and returns: --rm and --detach do not apply to it")
        }
        if command.operator != nil && (command.schedule != nil || command.detach || command.rm) {
            throw InputError(description: "--operator makes the operator's resource and returns: --schedule, --detach and --rm do not apply to it")
        }
        if command.timeZone != nil && command.schedule == nil {
            throw InputError(description: "--time-zone \(command.timeZone!) needs --schedule")
        }
        let projectArgument = ProjectArgument(command.directory)
        let projectDirectory = projectArgument.directory
        let config = try ProjectConfig.loadOrInfer(file: command.file, projectDirectory: projectDirectory, entrypoint: projectArgument.entrypoint)
        // Workers from the flag, else fair.yaml: both are checked alike.
        let workerCount = command.workers ?? config.train.workers ?? 1
        if command.schedule != nil && workerCount > 1 {
            throw InputError(description: "--schedule with --workers is not supported: each run would need its own Service; schedule a single-worker training, or run the workers with fair train --workers")
        }
        try Self.checkModelRank(command, workers: workerCount)
        let client = try command.cluster.client()
        let namespace = command.cluster.namespace(for: client, projectDefault: config.train.namespace)
        let hosts = try TargetRegistry.resolve(flag: command.registry, project: config.train.registry, client: client)
        let mounts = try command.mounts.map { try WorkloadMount(parsing: $0) }
        try WorkloadMount.check(mounts)
        try Self.checkHostMounts(mounts, client: client, onOwnServer: hosts.takesAccountTokens)
        let project = KubernetesNames.sanitized(config.name, maxLength: 50)
        let talk = command.outputFormat == .text
        let execution = try Self.execution(command: command, config: config)

        // Image.
        let registries = command.registryOptions.clients(cluster: client, registryHost: hosts.push)
        let image = try PushedImage.buildAndPush(
            directory: projectDirectory, entrypoint: projectArgument.entrypoint, file: command.file, base: command.base, registries: registries,
            reference: "\(hosts.push)/\(project):latest", extraRequirements: execution == nil ? [] : NotebookExecution.requirements, talk: talk)
        let imageReference = "\(hosts.cluster)/\(project)@\(image.digest)"

        // Manifests.
        // A scheduled training keeps one name (its runs get theirs from it); a run gets a fresh one.
        let name = command.name ?? (command.schedule != nil
            ? KubernetesNames.sanitized(project, maxLength: ScheduledTraining.maximumNameLength) : KubernetesNames.unique(project))
        var training = TrainingJob(name: name, namespace: namespace, project: project, image: imageReference)
        training.registry = hosts.cluster
        training.imagePythonPath = image.pythonPath
        training.execution = execution
        // On the cluster's own registry the pod stores the model as the Job's service account,
        // which may push to its model's repository only; elsewhere it pushes as the registry lets
        // anyone in the cluster (the model step holds no credential of the user's).
        let access = hosts.takesAccountTokens
            ? ModelStepAccess(name: training.name, namespace: namespace, repository: training.modelRepository) : nil
        if access != nil { training.registryAccount = training.name }
        training.env = try Self.merged(config.train.env.map { ($0.name, $0.value) }, command.env, flag: "--env")
        training.secrets = try command.secretOptions.merged(with: config.train.secrets)
        training.mounts = mounts
        training.cpu = command.cpu ?? config.train.cpu
        training.memory = command.memory ?? config.train.memory
        training.gpus = command.gpu ?? config.train.gpu ?? 0
        training.nodeSelector = Dictionary(try Self.merged(config.train.nodeSelector.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                                           command.nodeSelector, flag: "--node-selector"),
                                           uniquingKeysWith: { _, last in last })
        training.backoffLimit = command.backoffLimit ?? config.train.backoffLimit ?? 0
        if command.operator == nil, workerCount > 1 {
            training.workers = TrainingWorkers(count: workerCount, retriesPerWorker: command.backoffLimit ?? config.train.backoffLimit
                                                   ?? TrainingWorkers.defaultRetriesPerWorker)
            training.workers?.modelRank = command.modelRank ?? 0
        }
        training.activeDeadlineSeconds = config.train.activeDeadlineSeconds
        let template = try ManifestTemplate.projectOrBuiltIn(config.train.template, builtIn: "job.yaml", projectDirectory: projectDirectory)
        let job = try training.render(with: template)
        let workersService = try training.workersService(with: try ManifestTemplate.projectOrBuiltIn(nil, builtIn: "workers-service.yaml", projectDirectory: projectDirectory))
        let scheduled = command.schedule.map { ScheduledTraining(schedule: $0, timeZone: command.timeZone) }
        let workload = scheduled?.cronJob(wrapping: job) ?? job
        let operatorResource = try command.operator.map {
            try $0.resource(from: job, workers: workerCount, retries: training.backoffLimit, imageCommand: image.command)
        }
        let manifests = [ModelTools.configMap(namespace: namespace)] + (access?.manifests ?? []) + (workersService.map { [$0] } ?? [])
            + [operatorResource ?? workload]

        if command.dryRun {
            try command.outputFormat.printManifests(manifests)
            return 0
        }
        if let trainingOperator = command.operator, let operatorResource {
            return try createForOperator(trainingOperator, operatorResource, access: access, client: client, namespace: namespace,
                                         name: training.name, talk: talk)
        }

        // Submit.
        try Self.checkGPUs(training.gpus, client: client)
        try ModelTools.apply(with: client, namespace: namespace)
        let exists = KubeError(code: 409, reason: "AlreadyExists",
                               message: "a Job named \(training.name) already exists in namespace \(namespace); delete it (kubectl delete job \(training.name)) or choose another --name")
        if let scheduled {
            return try createSchedule(scheduled, workload, access: access, client: client, namespace: namespace, name: training.name, talk: talk)
        }
        if let access {
            // The account is the Job's: never taken from a Job of the same name that still runs.
            if (try? client.get(.jobs, namespace: namespace, name: training.name)) != nil { throw exists }
            try access.create(with: client)
        }
        if let workersService {
            // Made first, so the ranks' names resolve from their start; the Job then owns it.
            do {
                _ = try client.create(.services, namespace: namespace, workersService)
            } catch let error as KubeError where error.code == 409 {
                throw KubeError(code: 409, reason: "AlreadyExists",
                                message: "a Service named \(training.name) already exists in namespace \(namespace); the workers need that name (delete it, or choose another --name)")
            }
        }
        let created: JSONValue
        do {
            created = try client.create(.jobs, namespace: namespace, job)
        } catch {
            if workersService != nil { _ = try? client.delete(.services, namespace: namespace, name: training.name) }
            if let error = error as? KubeError, error.code == 409 { throw exists }
            throw error
        }
        try access?.adopt(by: created, with: client)
        if workersService != nil { try TrainingWorkers.adopt(service: training.name, namespace: namespace, by: created, with: client) }
        let submitted = Date()
        let resume = "fair logs \(training.name) -f -n \(namespace)"
        if command.detach {
            if talk { Console.progress("created job \(training.name) in namespace \(namespace); follow it with: \(resume)") }
            Console.result(training.name)
            return 0
        }
        if talk { Console.progress("created job \(training.name) in namespace \(namespace)") }
        Interrupts.message = "stopped following; job \(training.name) keeps running. Resume with: \(resume)  (status: fair status \(training.name) -n \(namespace))"

        // Follow.
        let printer = JobOutputPrinter(logsToStandardOutput: command.outputFormat.logsToStandardOutput)
        var options = JobFollower.Options(namespace: namespace, name: training.name)
        options.containers = ["train", "model"]
        options.ranks = training.workers != nil
        let follower = JobFollower(client: client, options: options,
                                   onLog: { printer.log(pod: $0, container: $1, bytes: $2) },
                                   onEvent: { printer.event($0) })
        let outcome = try follower.run()
        let ended = Date()

        let cannotStart = outcome.cannotStart
        if command.rm || cannotStart {
            // A Job that cannot start would wait unseen for a node or an image: it goes, as with --rm.
            try? client.delete(.jobs, namespace: namespace, name: training.name, propagation: "Background")
            if talk { Console.progress("deleted job \(training.name)") }
        }

        let report = TrainReport(
            job: training.name, namespace: namespace, image: imageReference, outcome: outcome,
            model: printer.modelResult,
            timings: .init(build: image.buildSeconds, push: image.pushSeconds,
                           schedule: printer.scheduledAt.map { $0.timeIntervalSince(submitted) },
                           start: printer.startedAt.map { start in start.timeIntervalSince(printer.scheduledAt ?? submitted) },
                           run: printer.trainedAt.map { trained in trained.timeIntervalSince(printer.startedAt ?? submitted) },
                           model: printer.trainedAt.map { ended.timeIntervalSince($0) },
                           total: ended.timeIntervalSince(started)))
        try command.outputFormat.printResult(report.json)
        switch outcome.state {
        case .complete:
            if talk {
                Console.progress("job \(training.name) complete (\(report.timings.summary))")
                if let reference = printer.modelResult?["reference"]?.stringValue {
                    Console.progress("model stored: \(reference) (\(printer.modelResult?["digest"]?.stringValue ?? ""))")
                } else if printer.modelResult?["stored"] == JSONValue.bool(false) {
                    Console.progress("the script wrote nothing to $FAIR_MODEL_DIR: no model stored")
                }
            }
            return 0
        case .failed:
            let why = [outcome.reason, outcome.message].compactMap { $0 }.joined(separator: ": ")
            Console.error(cannotStart ? "job \(training.name) cannot start: \(why)"
                                      : "job \(training.name) failed after \(outcome.attempts) attempt\(outcome.attempts == 1 ? "" : "s"): \(why)")
            if talk, let model = printer.modelResult, let failure = model["failed"]?.stringValue, let tag = model["tag"]?.stringValue,
               let repository = model["repository"]?.stringValue {
                // The training reported its own failure (a notebook's cell) and its outputs were kept.
                let name = repository.hasPrefix("models/") ? String(repository.dropFirst("models/".count)) : repository
                Console.error("\(failure); the notebook as far as it ran: fair models pull \(name):\(tag) --notebook")
            }
            return 1
        }
    }

    /// `--operator`: makes the operator's resource (and the model step's account, which it then
    /// owns) where the cluster serves its kind, and returns; the operator runs it.
    private func createForOperator(_ trainingOperator: TrainingOperator, _ resource: JSONValue, access: ModelStepAccess?,
                                   client: KubeClient, namespace: String, name: String, talk: Bool) throws -> Int32 {
        let api = APIResource(group: "kubeflow.org", version: "v1", plural: trainingOperator.plural, namespaced: true)
        do {
            _ = try client.list(api, namespace: namespace)
        } catch let error as KubeError where error.code == 404 {
            throw InputError(description: "--operator \(trainingOperator.rawValue): \(client.config.server) serves no kubeflow.org/v1 \(trainingOperator.kind) (the training operator is not installed there); run the workers as an Indexed Job without --operator, or print the manifests with --dry-run")
        }
        try ModelTools.apply(with: client, namespace: namespace)
        if (try? client.get(api, namespace: namespace, name: name)) != nil {
            throw KubeError(code: 409, reason: "AlreadyExists",
                            message: "a \(trainingOperator.kind) named \(name) already exists in namespace \(namespace); delete it or choose another --name")
        }
        try access?.create(with: client)
        let created: JSONValue
        do {
            created = try client.create(api, namespace: namespace, resource)
        } catch {
            access?.delete(with: client)
            throw error
        }
        try access?.adopt(by: created, with: client)
        if talk {
            Console.progress("created \(trainingOperator.kind.lowercased()) \(name) in namespace \(namespace); its pods: kubectl get pods -n \(namespace) -l training.kubeflow.org/job-name=\(name)")
        }
        Console.result(name)
        return 0
    }

    /// `--schedule`: makes the CronJob (and the model step's account, which it then owns) and
    /// returns, printing its name.
    private func createSchedule(_ scheduled: ScheduledTraining, _ cronJob: JSONValue, access: ModelStepAccess?, client: KubeClient,
                                namespace: String, name: String, talk: Bool) throws -> Int32 {
        if (try? client.get(.cronJobs, namespace: namespace, name: name)) != nil {
            throw KubeError(code: 409, reason: "AlreadyExists",
                            message: "a CronJob named \(name) already exists in namespace \(namespace); delete it (kubectl delete cronjob \(name)) or choose another --name")
        }
        try access?.create(with: client)
        let created: JSONValue
        do {
            created = try client.create(.cronJobs, namespace: namespace, cronJob)
        } catch {
            // Nothing half-made stays: the account goes with the refused CronJob.
            access?.delete(with: client)
            throw error
        }
        try access?.adopt(by: created, with: client)
        let zone = scheduled.timeZone.map { " (\($0))" } ?? ""
        if talk {
            Console.progress("created cronjob \(name) in namespace \(namespace): trains on \"\(scheduled.schedule)\"\(zone); see its runs with: fair status \(name) -n \(namespace)")
        }
        if command.outputFormat == .text {
            Console.result(name)
        } else {
            try command.outputFormat.printResult(["cronJob": .string(name), "namespace": .string(namespace), "schedule": .string(scheduled.schedule),
                                                  "timeZone": scheduled.timeZone.map { .string($0) } ?? .null])
        }
        return 0
    }

    /// A directory of this machine can be mounted only where pods run on this machine: the
    /// cluster is fair's own server (it says so in its registry hosting) reached on loopback.
    static func checkHostMounts(_ mounts: [WorkloadMount], client: KubeClient, onOwnServer: Bool) throws {
        guard let mount = mounts.first(where: { if case .host = $0.source { return true } else { return false } }) else { return }
        let host = URLComponents(string: client.config.server)?.host ?? ""
        let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
        guard onOwnServer && loopback else {
            guard case let .host(path) = mount.source else { return }
            throw InputError(description: "--mount \(path):\(mount.path): \(client.config.server) is not this machine's fair server, so its pods cannot see \(path); put the data in a PersistentVolumeClaim there and use --mount pvc:NAME:\(mount.path)")
        }
    }

    /// GPUs asked for that no node offers, where a node says why (GPUs without a CDI spec):
    /// the Job would wait for good, so fair stops here with the node's fix. Elsewhere (no such
    /// node, or nodes that cannot be listed) the Job is created and waits, as on any cluster
    /// that may still add GPU nodes.
    static func checkGPUs(_ gpus: Int, client: KubeClient) throws {
        guard gpus > 0, let nodes = (try? client.list(.nodes))?["items"]?.arrayValue else { return }
        let offered = nodes.contains { node in
            (Quantity(node.value(at: ["status", "allocatable", "nvidia.com/gpu"]))?.units ?? 0) >= Int64(gpus)
        }
        guard !offered else { return }
        for node in nodes {
            for condition in node.value(at: "status.conditions")?.arrayValue ?? []
            where condition["type"]?.stringValue == "CDISpecMissing" && condition["status"]?.stringValue == "True" {
                let message = condition["message"]?.stringValue ?? "its GPUs have no CDI spec"
                throw InputError(description: "--gpu \(gpus): no node offers \(gpus) GPU\(gpus == 1 ? "" : "s"); node \(node.name ?? "?"): \(message)")
            }
        }
    }

    /// `--model-rank` names a rank there is, of workers fair runs itself.
    static func checkModelRank(_ command: TrainCommand, workers: Int) throws {
        guard let rank = command.modelRank, rank != 0 || command.operator != nil else { return }
        if command.operator != nil {
            throw InputError(description: "--model-rank: with --operator the leader (Master, Chief) stores the model")
        }
        guard workers > 1 else { throw InputError(description: "--model-rank \(rank) needs --workers (one process is rank 0)") }
        guard rank < workers else { throw InputError(description: "--model-rank \(rank): there are \(workers) workers, ranks 0 to \(workers - 1)") }
    }

    /// fair.yaml's pairs, then the flag's (the flag wins for the same key), in order.
    static func merged(_ base: [(String, String)], _ flags: [String], flag: String) throws -> [(name: String, value: String)] {
        var result = base.map { (name: $0.0, value: $0.1) }
        for pair in flags {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { throw InputError(description: "\(flag) \(pair) is not K=V") }
            let name = String(parts[0]), value = String(parts[1])
            if let index = result.firstIndex(where: { $0.name == name }) {
                result[index].value = value
            } else {
                result.append((name, value))
            }
        }
        return result
    }

    /// `--execute` (and `-p`): the notebook the project runs, at its path in the image.
    static func execution(command: TrainCommand, config: ProjectConfig) throws -> NotebookExecution? {
        guard command.execute else {
            if !command.parameters.isEmpty { throw InputError(description: "-p sets a notebook's parameters: it needs --execute") }
            return nil
        }
        guard config.entrypoint.hasSuffix(".ipynb") else {
            throw InputError(description: "--execute runs a notebook, but the entrypoint is \(config.entrypoint) (name the .ipynb, or set entrypoint: in fair.yaml)")
        }
        let parameters = try NotebookExecution.pairs(command.parameters)
        for (name, _) in parameters where !Self.isPythonName(name) {
            throw InputError(description: "-p \(name): a parameter must be a Python name")
        }
        let workdir = config.workdir.hasSuffix("/") ? String(config.workdir.dropLast()) : config.workdir
        return NotebookExecution(notebook: "\(workdir)/\(config.entrypoint)", parameters: parameters)
    }

    static func isPythonName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isXIDStart else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isXIDContinue }
    }

}
