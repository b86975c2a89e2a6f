/// The annotations kube's volume controllers and scheduler talk through, by their names: one
/// place for the binder, the provisioner and the scheduler's volume binding.
public enum StorageAnnotations {
    /// On a claim: the node the scheduler chose for its first pod (`WaitForFirstConsumer`).
    public static let selectedNode = "volume.kubernetes.io/selected-node"
    /// On a claim: the provisioner asked to make its volume (and the beta key older tools read).
    public static let storageProvisioner = "volume.kubernetes.io/storage-provisioner"
    public static let betaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
    /// On a claim: the binder finished binding it; `bound-by-controller` on either side: the
    /// binder, not a user, made the link.
    public static let bindCompleted = "pv.kubernetes.io/bind-completed"
    public static let boundByController = "pv.kubernetes.io/bound-by-controller"
    /// On a volume: the provisioner that made it (and so deletes it).
    public static let provisionedBy = "pv.kubernetes.io/provisioned-by"
}
