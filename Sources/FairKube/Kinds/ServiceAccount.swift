/// An identity for processes in pods (core/v1 ServiceAccount). Every namespace gets one named
/// `default` (made by the service-account controller, as kube-controller-manager does), and a
/// pod that names none runs as it.
extension KindDefinition {
    public static let serviceAccount = KindDefinition(
        group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true,
        shortNames: ["sa"], subresources: ["token"],
        columns: [
            .name,
            TableColumn(name: "Secrets", type: "integer") { object, _ in .int(Int64(object["secrets"]?.arrayValue?.count ?? 0)) },
            .age,
        ])

    /// The account a pod runs as when it names none.
    public static let defaultServiceAccountName = "default"
}

extension APIResource {
    public static let serviceAccounts = KindDefinition.serviceAccount.resource
}
