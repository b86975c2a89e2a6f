import ArgumentParser
import FairKube
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
}
