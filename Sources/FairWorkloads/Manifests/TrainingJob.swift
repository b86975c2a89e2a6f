import FairKube
import Foundation

/// What `fair train` runs: one batch/v1 Job rendered from `Templates/job.yaml` (or a project's own
/// template), checked to be a Job that trains the given image before anything is sent.
public struct TrainingJob: Sendable {
    public var name: String
    public var namespace: String
    public var project: String
    public var image: String
    public var env: [(name: String, value: String)] = []
    /// Secrets the training container reads as env.
    public var secrets = WorkloadSecrets()
    /// Data the training container mounts (`--mount`).
    public var mounts: [WorkloadMount] = []
    /// Resource requests; limits repeat them (a training run should not be throttled below what
    /// it asked for), and GPUs are limits only, as Kubernetes requires.
    public var cpu: String?
    public var memory: String?
    public var gpus: Int = 0
    public var nodeSelector: [String: String] = [:]
    public var backoffLimit: Int = 0
    public var activeDeadlineSeconds: Int?
    /// Where the model goes: `registry/modelRepository:vN`, pushed from inside the pod.
    public var registry: String = ""
    public var modelRepository: String { "models/\(project)" }
    /// The service account the pod runs as when the registry takes accounts' tokens
    /// (`ModelStepAccess`): the model step gets a token for the registry's audience, good for
    /// `registryTokenSeconds` (the node renews it while the pod lives), and exchanges it for push
    /// rights to `modelRepository` only.
    public var registryAccount: String?
    public var registryTokenSeconds = 3600
    /// The ConfigMap holding fair's in-pod tools (`fair-model.py`) and the Python SDK.
    public var toolsConfigMap = ModelTools.configMapName
    /// `--workers N` (N > 1): an Indexed Job whose ranks find each other by DNS.
    public var workers: TrainingWorkers?
    /// `--execute`: the training container runs the notebook with a kernel instead of the image's entrypoint.
    public var execution: NotebookExecution?
    /// The image's own PYTHONPATH: the training container's adds the SDK's directory after it.
    public var imagePythonPath: String?
    /// Where the training script's `fair.log_metric` values go: inside the model directory, so
    /// they are stored with the model as `metrics.jsonl`.
    public static let metricsFile = "/model/metrics.jsonl"
    /// Where a training reports its own failure (a notebook's failing cell), so that the model
    /// step stores what it made so far and fails the pod with the reason.
    public static let failureFile = "/model/.fair-failure"

    /// The tag a failed run's outputs are stored under: named after the Job, never a version.
    public static func failedTag(job: String) -> String { "failed-\(job)" }

    public init(name: String, namespace: String, project: String, image: String) {
        self.name = name
        self.namespace = namespace
        self.project = project
        self.image = image
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) { self.description = description }
    }

    /// The Job, rendered and checked.
    public func render(with template: ManifestTemplate) throws -> JSONValue {
        var values: [String: Any] = [
            "name": name, "namespace": namespace, "project": project, "image": image,
            "backoffLimit": workers?.jobBackoffLimit() ?? backoffLimit,
            "env": env.map { ["name": $0.name, "value": $0.value] as [String: Any] },
        ]
        if let workers { values.merge(workers.templateValues(job: name)) { _, new in new } }
        values["hasModelEnv"] = registryAccount != nil || workers != nil
        values.merge(try ResourceValues.make(cpu: cpu, memory: memory, gpus: gpus)) { _, new in new }
        values.merge(ResourceValues.nodeSelector(nodeSelector)) { _, new in new }
        values["registry"] = registry
        values["modelRepository"] = modelRepository
        values["modelReference"] = "\(registry)/\(modelRepository)"
        values["jobAnnotation"] = "dev.fair.job=\(name)"
        values["imageAnnotation"] = "dev.fair.image=\(image)"
        values["toolsConfigMap"] = toolsConfigMap
        values["sdkPath"] = ModelTools.sdkPath
        values["sdkItems"] = ModelTools.sdkItems.map { ["key": $0.key, "path": $0.path] as [String: Any] }
        values["pythonPath"] = [imagePythonPath, ModelTools.sdkPath].compactMap { $0.flatMap { $0.isEmpty ? nil : $0 } }.joined(separator: ":")
        values["metricsFile"] = Self.metricsFile
        values["failureFile"] = Self.failureFile
        values["failedTag"] = Self.failedTag(job: name)
        if let execution {
            values["hasCommand"] = true
            values["command"] = execution.command.map { ["argument": $0] as [String: Any] }
        }
        if let registryAccount {
            values["registryAccount"] = registryAccount
            values["registryAudience"] = RegistryAccountAccess.audience
            values["registryTokenSeconds"] = registryTokenSeconds
        }
        if let activeDeadlineSeconds { values["activeDeadlineSeconds"] = activeDeadlineSeconds }
        values.merge(secrets.templateValues) { _, new in new }
        values.merge(WorkloadMount.templateValues(mounts)) { _, new in new }
        let documents = try template.render(values)
        guard documents.count == 1, let job = documents.first, job.kind == KindDefinition.job.kind, job.apiVersion == KindDefinition.job.apiVersion else {
            throw Invalid(description: "\(template.source) must render exactly one batch/v1 Job (got \(documents.map { $0.kind ?? "?" }))")
        }
        guard job.name == name,
              let containers = job.value(at: "spec.template.spec.containers")?.arrayValue, !containers.isEmpty,
              (containers + (job.value(at: "spec.template.spec.initContainers")?.arrayValue ?? []))
                .contains(where: { $0["image"]?.stringValue == image }) else {
            throw Invalid(description: "\(template.source) must name the Job {{{name}}} and run the image {{{image}}} in one of its containers")
        }
        try secrets.check(job, image: image, source: template.source)
        try WorkloadMount.check(mounts, in: job, image: image, source: template.source)
        if workers != nil, job.value(at: "spec.completionMode")?.stringValue != "Indexed" {
            throw Invalid(description: "\(template.source) must render an Indexed Job for --workers (the {{#hasWorkers}} sections of the built-in job.yaml)")
        }
        return job
    }

    /// The headless Service that names the ranks of `--workers`, from `workers-service.yaml`.
    public func workersService(with template: ManifestTemplate) throws -> JSONValue? {
        guard workers != nil else { return nil }
        let documents = try template.render(["name": name, "namespace": namespace, "project": project, "workersService": name])
        guard documents.count == 1, let service = documents.first, service.kind == "Service", service.name == name else {
            throw Invalid(description: "\(template.source) must render exactly one Service named {{{workersService}}}")
        }
        return service
    }
}
