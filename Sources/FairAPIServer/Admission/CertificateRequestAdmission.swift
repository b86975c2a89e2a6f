import FairKube

/// Certificate requests record who asked, from the request's credential and never from the
/// body (kube's CSR strategy): approvers decide on it, so a client must not be able to claim
/// to be someone else.
enum CertificateRequestAdmission {
    static func admit(_ request: inout JSONValue, user: UserInfo) {
        request.set(.string(user.name), at: "spec.username")
        request.set(user.uid.isEmpty ? nil : .string(user.uid), at: "spec.uid")
        request.set(.array(user.groups.map { .string($0) }), at: "spec.groups")
        request.set(user.extra.isEmpty ? nil : .object(user.extra.mapValues { .array($0.map { .string($0) }) }), at: "spec.extra")
    }

    /// What a write through a subresource may change: `approval` the Approved and Denied
    /// conditions only; `status` everything else of the status (the signer's certificate, a
    /// Failed condition), never those two.
    static func merge(stored: JSONValue, requested: JSONValue, subresource: String) -> JSONValue {
        let decision: Set<String> = ["Approved", "Denied"]
        let isDecision = { (condition: JSONValue) in decision.contains(condition["type"]?.stringValue ?? "") }
        let storedConditions = stored.value(at: "status.conditions")?.arrayValue ?? []
        let requestedConditions = requested.value(at: "status.conditions")?.arrayValue ?? []
        var object = stored
        switch subresource {
        case "approval":
            object.set(.array(storedConditions.filter { !isDecision($0) } + requestedConditions.filter(isDecision)), at: "status.conditions")
        default:
            object["status"] = requested["status"] ?? [:]
            object.set(.array(requestedConditions.filter { !isDecision($0) } + storedConditions.filter(isDecision)), at: "status.conditions")
        }
        return object
    }

    /// An approver must also be allowed to `approve` for the request's signer (the `signers`
    /// resource, by the signer's name or its domain's `*`), as kube's admission checks it.
    static func approveAttributes(user: UserInfo, signerName: String) -> [RequestAttributes] {
        let domain = signerName.split(separator: "/").first.map(String.init) ?? signerName
        return [signerName, "\(domain)/*"].map {
            RequestAttributes(user: user, verb: "approve", resource: "signers", apiGroup: "certificates.k8s.io", name: $0)
        }
    }
}
