/// The bundled server's storage: the default StorageClass `local`, whose provisioner (a
/// controller) makes one directory per claim on the node the claim's first pod runs on, as
/// kind's and k3s's local-path provisioners do.
public enum LocalStorage {
    public static let className = "local"
    public static let provisioner = "fair.dev/local"

    public static var storageClass: JSONValue {
        [
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": [
                "name": .string(className),
                "annotations": .object([KindDefinition.defaultStorageClassAnnotation: "true"]),
            ],
            "provisioner": .string(provisioner),
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        ]
    }
}
