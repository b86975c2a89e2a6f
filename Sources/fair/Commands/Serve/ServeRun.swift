import FairBuild
import FairKube
import FairWorkloads
import FairRegistry
import Foundation

/// One `fair serve`: find the model, build and push the serving image, render the Deployment and
/// Service, apply them and wait for the rollout (or print them, for --dry-run).
struct ServeRun {
    let command: ServeCommand

    func run() throws {
        let (modelName, version) = try Self.parseModel(command.model)
        let projectArgument = ProjectArgument(command.directory)
        let projectDirectory = projectArgument.directory
        let config = try ProjectConfig.loadOrInfer(file: command.file, projectDirectory: projectDirectory, entrypoint: projectArgument.entrypoint)
        guard let predict = config.serve.predict else {
            throw InputError(description: "\(command.file ?? "\(projectDirectory)/fair.yaml") has no serve.predict: name the function fair serve calls, e.g.\nserve:\n  predict: predict.py:predict")
        }
        let client = try command.cluster.client()
        let namespace = command.cluster.namespace(for: client, projectDefault: config.train.namespace)
        let hosts = try TargetRegistry.resolve(flag: command.registry, project: config.train.registry, client: client)
        let talk = command.outputFormat == .text

        let registries = command.registryOptions.clients(cluster: client, registryHost: hosts.push)
        let model = try ModelRegistry(client: try registries.client(for: hosts.push)).resolve(modelName, version: version)
        if let failure = model.failure {
            throw InputError(description: "\(modelName):\(model.version) holds a failed run's outputs (\(failure)), not a model to serve; see fair models list for its versions")
        }
        if talk { Console.progress("model \(model.name):\(model.version) (\(model.digest))") }

        let project = KubernetesNames.sanitized(config.name, maxLength: 50)
        let digest = try PushedImage.buildAndPush(
            directory: projectDirectory, entrypoint: projectArgument.entrypoint, file: command.file, base: command.base, registries: registries,
            reference: "\(hosts.push)/\(project):serve", addition: ServingImage.addition(predict: predict, workdir: config.workdir),
            talk: talk).digest
        var serving = ServingDeployment(
            name: command.name ?? KubernetesNames.sanitized(modelName), namespace: namespace, project: project,
            image: "\(hosts.cluster)/\(project)@\(digest)", registry: hosts.cluster,
            modelName: modelName, modelVersion: model.version, modelDigest: model.digest.description)
        serving.replicas = command.replicas ?? config.serve.replicas ?? 1
        serving.port = command.port ?? config.serve.port ?? 8080
        serving.secrets = try command.secretOptions.merged(with: config.serve.secrets)
        serving.cpu = command.cpu ?? config.serve.cpu
        serving.memory = command.memory ?? config.serve.memory
        let deploymentTemplate = try ManifestTemplate.projectOrBuiltIn(config.serve.template, builtIn: "deployment.yaml", projectDirectory: projectDirectory)
        let deployment = try serving.renderDeployment(with: deploymentTemplate)
        let service = try serving.renderService(with: try ManifestTemplate.projectOrBuiltIn(nil, builtIn: "service.yaml", projectDirectory: projectDirectory))

        if command.dryRun {
            try command.outputFormat.printManifests([service, deployment])
            return
        }

        // What was there before, to go back to when this rollout fails.
        let previous = try? client.get(.deployments, namespace: namespace, name: serving.name)
        let previousService = try? client.get(.services, namespace: namespace, name: serving.name)
        try client.createOrReplace(.services, service)
        try client.createOrReplace(.deployments, deployment)
        if talk { Console.progress("applied deployment and service \(serving.name) in namespace \(namespace); rolling out") }
        Interrupts.message = "stopped waiting; the rollout goes on (kubectl rollout status deployment/\(serving.name) -n \(namespace))"
        var waiter = RolloutWaiter(client: client, namespace: namespace, name: serving.name)
        waiter.timeout = TimeInterval(command.timeout)
        let started = Date()
        do {
            try waiter.wait { line in if talk { Console.progress("rollout: \(line)") } }
        } catch let error as RolloutWaiter.Failure {
            // A rollout that cannot finish (the predict module does not import, the model does not
            // load) leaves nothing broken behind: the previous deployment comes back, as
            // `kubectl rollout undo` would bring it, or a new one is removed with its Service.
            Console.progress(Self.undo(client: client, namespace: namespace, name: serving.name,
                                       previous: previous, previousService: previousService))
            throw error
        }
        let seconds = Date().timeIntervalSince(started)

        let path = "/api/v1/namespaces/\(namespace)/services/\(serving.name):http/proxy/v1/models/\(modelName):predict"
        let report: JSONValue = [
            "service": .string(serving.name), "namespace": .string(namespace), "model": .string(modelName),
            "version": .string(model.version), "digest": .string(model.digest.description), "image": .string(serving.image),
            "replicas": .int(Int64(serving.replicas)), "rolloutSeconds": .double((seconds * 1000).rounded() / 1000),
            "predict": .string(client.config.server + path),
        ]
        try command.outputFormat.printResult(report)
        if command.outputFormat == .text {
            Console.progress(String(format: "serving %@:%@ as %@ (%d replica%@, rolled out in %.1fs)", modelName, model.version, serving.name,
                                    serving.replicas, serving.replicas == 1 ? "" : "s", seconds))
            Console.progress("predict with: fair predict \(serving.name) --data '{\"instances\": [...]}'")
        }
    }

    /// Puts back what a failed rollout replaced, or removes what it created; says which.
    static func undo(client: KubeClient, namespace: String, name: String, previous: JSONValue?, previousService: JSONValue?) -> String {
        do {
            if let previous, let template = previous.value(at: "spec.template") {
                _ = try client.mergePatch(.deployments, namespace: namespace, name: name, ["spec": ["template": template]])
                return "rolled deployment \(name) back to what it ran before (kubectl rollout history deployment/\(name) -n \(namespace))"
            }
            try client.delete(.deployments, namespace: namespace, name: name, propagation: "Background")
            if previousService == nil { try? client.delete(.services, namespace: namespace, name: name) }
            return "removed deployment \(name), which did not become ready"
        } catch {
            return "could not undo the rollout (\(error)); remove it with: fair undeploy \(name) -n \(namespace)"
        }
    }

    /// `NAME[:VERSION]`, the model name checked the way the registry will read it.
    static func parseModel(_ text: String) throws -> (String, String?) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        guard !name.isEmpty, name.range(of: "^[a-z0-9]+([._-][a-z0-9]+)*$", options: .regularExpression) != nil else {
            throw InputError(description: "\(text): a model is NAME[:VERSION] with a lower-case NAME, as fair train stored it (see fair models list)")
        }
        return (name, parts.count > 1 ? parts[1] : nil)
    }
}
