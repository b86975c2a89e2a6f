import FairKube
import Foundation

/// What `fair serve` rolls out: a Deployment of model-server pods and the Service in front of
/// them, rendered from `Templates/deployment.yaml` and `Templates/service.yaml` (or a project's
/// own) and checked before anything is sent.
public struct ServingDeployment: Sendable {
    public var name: String
    public var namespace: String
    public var project: String
    /// The serving image (the project's layers plus the model server).
    public var image: String
    public var registry: String
    public var modelName: String
    public var modelVersion: String
    public var modelDigest: String
    public var replicas = 1
    public var port = 8080
    public var cpu: String?
    public var memory: String?
    public var nodeSelector: [String: String] = [:]
    /// Secrets the model server reads as env.
    public var secrets = WorkloadSecrets()

    public init(name: String, namespace: String, project: String, image: String, registry: String,
                modelName: String, modelVersion: String, modelDigest: String) {
        self.name = name
        self.namespace = namespace
        self.project = project
        self.image = image
        self.registry = registry
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.modelDigest = modelDigest
    }

    public var modelRepository: String { "models/\(modelName)" }
    public var modelReference: String { "\(registry)/\(modelRepository):\(modelVersion)@\(modelDigest)" }

    private var values: [String: Any] {
        get throws {
            var values: [String: Any] = [
                "name": name, "namespace": namespace, "project": project, "image": image, "registry": registry,
                "modelName": modelName, "modelVersion": modelVersion, "modelDigest": modelDigest,
                "modelRepository": modelRepository, "modelReference": modelReference,
                "replicas": replicas, "port": port, "portText": String(port),
            ]
            values.merge(try ResourceValues.make(cpu: cpu, memory: memory, gpus: 0)) { _, new in new }
            values.merge(ResourceValues.nodeSelector(nodeSelector)) { _, new in new }
            values.merge(secrets.templateValues) { _, new in new }
            return values
        }
    }

    /// The Deployment, rendered and checked.
    public func renderDeployment(with template: ManifestTemplate) throws -> JSONValue {
        let documents = try template.render(try values)
        guard documents.count == 1, let deployment = documents.first, deployment.kind == KindDefinition.deployment.kind,
              deployment.apiVersion == "apps/v1" else {
            throw TrainingJob.Invalid(description: "\(template.source) must render exactly one apps/v1 Deployment (got \(documents.map { $0.kind ?? "?" }))")
        }
        guard deployment.name == name,
              let containers = deployment.value(at: "spec.template.spec.containers")?.arrayValue,
              containers.contains(where: { $0["image"]?.stringValue == image }) else {
            throw TrainingJob.Invalid(description: "\(template.source) must name the Deployment {{{name}}} and run the image {{{image}}}")
        }
        try secrets.check(deployment, image: image, source: template.source)
        return deployment
    }

    /// The Service, rendered and checked.
    public func renderService(with template: ManifestTemplate) throws -> JSONValue {
        let documents = try template.render(try values)
        guard documents.count == 1, let service = documents.first, service.kind == KindDefinition.service.kind, service.apiVersion == KindDefinition.service.apiVersion,
              service.name == name else {
            throw TrainingJob.Invalid(description: "\(template.source) must render exactly one v1 Service named {{{name}}}")
        }
        return service
    }
}
