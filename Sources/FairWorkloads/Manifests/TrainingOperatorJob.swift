import FairKube
import Foundation

/// `fair train --operator pytorchjob|tfjob`: the training as Kubeflow training-operator's
/// PyTorchJob or TFJob (kubeflow.org/v1), for clusters that run that operator. It is made from
/// the Job fair would run (same image, environment, resources, mounts, secrets and model step),
/// so both paths share one template. The operator sets the rendezvous itself (MASTER_ADDR,
/// RANK and WORLD_SIZE for PyTorch; TF_CONFIG for TensorFlow), only in a replica's main
/// containers: so training runs in the main container the operator expects (`pytorch`,
/// `tensorflow`), and on the leader (Master, Chief) the model step wraps it
/// (`fair-model.py push … --after COMMAND`), storing the model once training succeeded.
public enum TrainingOperator: String, CaseIterable, Sendable {
    case pytorchjob, tfjob

    public var kind: String { self == .pytorchjob ? "PyTorchJob" : "TFJob" }
    public var apiVersion: String { "kubeflow.org/v1" }
    public var plural: String { self == .pytorchjob ? "pytorchjobs" : "tfjobs" }
    var replicaSpecsField: String { self == .pytorchjob ? "pytorchReplicaSpecs" : "tfReplicaSpecs" }
    /// The container the operator reads ports from and gives the rendezvous environment.
    var containerName: String { self == .pytorchjob ? "pytorch" : "tensorflow" }
    var leaderRole: String { self == .pytorchjob ? "Master" : "Chief" }
    /// Variables fair sets for its own Indexed Job that the operator sets its own way.
    static let rendezvousVariables: Set<String> = ["RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "TF_CONFIG"]

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// The operator's resource for `workers` processes (the leader counts as one), from the
    /// single-process Job `job`. `imageCommand` is what the image runs (its Entrypoint and Cmd),
    /// used when the training container names no command of its own.
    public func resource(from job: JSONValue, workers: Int, retries: Int, imageCommand: [String]) throws -> JSONValue {
        guard var template = job.value(at: "spec.template"),
              let train = template.value(at: "spec.initContainers")?.arrayValue?.first(where: { $0["name"]?.stringValue == "train" }),
              let model = template.value(at: "spec.containers")?.arrayValue?.first(where: { $0["name"]?.stringValue == "model" }),
              let modelCommand = model["command"]?.arrayValue else {
            throw Invalid(description: "--operator needs the Job of the built-in job.yaml (a `train` init container and a `model` container)")
        }
        var trainingCommand = (train["command"]?.arrayValue ?? []) + (train["args"]?.arrayValue ?? [])
        if train["command"] == nil {
            trainingCommand = imageCommand.map(JSONValue.string) + (train["args"]?.arrayValue ?? [])
        }
        guard !trainingCommand.isEmpty else {
            throw Invalid(description: "--operator: the image names no command (Entrypoint or Cmd) to run the training with")
        }

        var worker = train
        worker["name"] = .string(containerName)
        worker["env"] = .array((train["env"]?.arrayValue ?? []).filter { !Self.rendezvousVariables.contains($0["name"]?.stringValue ?? "") })
        var leader = worker
        leader["command"] = .array(modelCommand + ["--after", "--"] + trainingCommand)
        leader["args"] = nil
        // The leader also holds what the model step had: the tools, the registry credential.
        var mounts = leader["volumeMounts"]?.arrayValue ?? []
        for mount in model["volumeMounts"]?.arrayValue ?? [] where !mounts.contains(where: { $0["name"] == mount["name"] }) {
            mounts.append(mount)
        }
        leader["volumeMounts"] = .array(mounts)
        leader["env"] = .array((leader["env"]?.arrayValue ?? []) + (model["env"]?.arrayValue ?? []))

        template.set(.null, at: "spec.initContainers")
        template.set(.null, at: "spec.subdomain")
        template.set(.null, at: "spec.restartPolicy")
        var labels = template.value(at: "metadata.labels")?.objectValue ?? [:]
        labels[PodGroupLabels.name] = nil
        labels[PodGroupLabels.minAvailable] = nil
        template.set(.object(labels), at: "metadata.labels")
        template.set(.string(containerName), at: ["metadata", "annotations", "kubectl.kubernetes.io/default-container"])
        template = Self.withoutNulls(template)

        func replica(_ count: Int, _ container: JSONValue) -> JSONValue {
            var pod = template
            pod.set(.array([container]), at: "spec.containers")
            return ["replicas": .int(Int64(count)), "restartPolicy": "OnFailure", "template": pod]
        }
        var specs: [String: JSONValue] = [leaderRole: replica(1, leader)]
        if workers > 1 { specs["Worker"] = replica(workers - 1, worker) }
        var metadata: [String: JSONValue] = [:]
        for key in ["name", "namespace", "labels", "annotations"] { metadata[key] = job.value(at: "metadata")?[key] }
        var runPolicy: [String: JSONValue] = ["backoffLimit": .int(Int64(retries)), "cleanPodPolicy": "None"]
        if let deadline = job.value(at: "spec.activeDeadlineSeconds") { runPolicy["activeDeadlineSeconds"] = deadline }
        return ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": .object(metadata),
                "spec": .object(["runPolicy": .object(runPolicy), replicaSpecsField: .object(specs)])]
    }

    private static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case let .object(fields): return .object(fields.filter { $0.value != .null }.mapValues(withoutNulls))
        case let .array(items): return .array(items.map(withoutNulls))
        default: return value
        }
    }
}
