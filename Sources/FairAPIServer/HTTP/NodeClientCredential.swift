/// How the API server proves itself to a node (kube-apiserver's `--kubelet-client-certificate`
/// and `--kubelet-client-key`): PEM files of a client certificate the cluster's root signed.
/// A node accepts it because it trusts that root (its kubeconfig's authority); the API's bearer
/// token never goes to a node.
public struct NodeClientCredential: Sendable {
    public var certificateFile: String
    public var keyFile: String

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}
