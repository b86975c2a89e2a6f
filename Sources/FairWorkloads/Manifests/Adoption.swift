import FairKube

/// What fair makes beside a workload (the model step's account, the workers' Service) is handed
/// to the workload once it exists, so the garbage collector removes it with the workload.
enum Adoption {
    /// Sets `owner` as the only owner of each object; nothing is done for an owner without a uid.
    static func adopt(_ objects: [(resource: APIResource, name: String)], namespace: String, by owner: JSONValue,
                      with client: KubeClient) throws {
        guard let uid = owner.uid, let name = owner.name else { return }
        let reference = OwnerReference(apiVersion: owner["apiVersion"]?.stringValue ?? "batch/v1", kind: owner["kind"]?.stringValue ?? "Job",
                                       name: name, uid: uid, blockOwnerDeletion: true)
        for object in objects {
            _ = try client.mergePatch(object.resource, namespace: namespace, name: object.name,
                                      ["metadata": ["ownerReferences": [reference.json]]])
        }
    }
}
