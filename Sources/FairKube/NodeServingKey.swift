/// The Node annotation in which a node agent publishes the pin of its serving certificate's
/// public key (`sha256//BASE64`, libcurl's form); the API server relays to the node only over
/// TLS that presents that key. Kubernetes leaves how an API server trusts a kubelet to the
/// cluster (`--kubelet-certificate-authority`); publishing the key with the Node also covers
/// nodes that joined from elsewhere with a certificate no root here signed.
public enum NodeServingKey {
    public static let annotation = "fair.dev/kubelet-serving-key"
}
