import ArgumentParser
import FairKube
import FairWorkloads
import Foundation

/// How commands reach a Kubernetes API server: kubectl's flags and defaults.
struct ClusterOptions: ParsableArguments {
    @Option(help: "The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: its current-context).")
    var context: String?

    @Option(name: [.customShort("n"), .long], help: "The namespace (default: the context's, else default).")
    var namespace: String?

    func client() throws -> KubeClient {
        try KubeClient(config: try Kubeconfig.load(path: kubeconfig, context: context))
    }

    /// The flag, then a project's own setting, then the context's namespace.
    func namespace(for client: KubeClient, projectDefault: String? = nil) -> String {
        namespace ?? projectDefault ?? client.config.namespace
    }
}

extension TrainOutputFormat {
    /// Where followed container output goes: stdout, unless stdout carries a machine-readable result.
    var logsToStandardOutput: Bool { self == .text }

    /// Manifests as `kubectl apply -f -` takes them: a v1 List in JSON, else YAML documents.
    func printManifests(_ documents: [JSONValue]) throws {
        switch self {
        case .json: Console.json(["apiVersion": "v1", "kind": "List", "items": .array(documents)])
        case .text, .yaml: try Console.yaml(documents)
        }
    }

    /// A command's result in JSON or YAML; in text, the command says it in its own words instead.
    func printResult(_ value: JSONValue) throws {
        switch self {
        case .json: Console.json(value)
        case .yaml: try Console.yaml([value])
        case .text: break
        }
    }
}

extension Console {
    static func json(_ value: JSONValue) {
        result(String(decoding: JSONCoding.encode(value, pretty: true), as: UTF8.self))
    }

    static func yaml(_ documents: [JSONValue]) throws {
        FileHandle.standardOutput.write(Data(try YAMLDocuments.print(documents).utf8))
    }
}
