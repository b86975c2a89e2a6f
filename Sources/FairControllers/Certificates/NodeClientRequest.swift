import FairKube
import FairTLS
import Foundation

/// The shape of a kubelet's request for its client certificate, as kube's certificates
/// controllers recognise it: subject `system:node:NAME` in exactly the group `system:nodes`,
/// no alternative names, and usages limited to a client's (with `client auth`).
enum NodeClientRequest {
    static let allowedUsages: Set<String> = ["key encipherment", "digital signature", "client auth"]

    /// Why `request` is not a node's client request; nil when it is.
    static func problem(_ request: CertificateRequest, usages: [String]) -> String? {
        guard request.subject.organizations == [NodeIdentity.group] else {
            return "subject organization is not \(NodeIdentity.group)"
        }
        guard NodeIdentity.nodeName(user: request.subject.commonName, groups: request.subject.organizations) != nil else {
            return "subject common name does not begin with \(NodeIdentity.userPrefix)"
        }
        guard request.alternativeNameCount == 0 else { return "a node client certificate has no alternative names" }
        guard usages.contains("client auth"), Set(usages).isSubset(of: allowedUsages) else {
            return "usages must include \"client auth\" and be among \(allowedUsages.sorted())"
        }
        return nil
    }

    static func parse(_ object: JSONValue) throws -> CertificateRequest {
        let encoded = object.value(at: "spec.request")?.stringValue ?? ""
        guard let data = Data(base64Encoded: encoded), let pem = String(data: data, encoding: .utf8) else {
            throw CertificateRequest.Failure.notPEM
        }
        return try CertificateRequest(pem: pem)
    }

    static func usages(_ object: JSONValue) -> [String] {
        (object.value(at: "spec.usages")?.arrayValue ?? []).compactMap(\.stringValue)
    }
}
