import FairKube
import FairTLS
import Foundation

/// The shape of a kubelet's request for its client certificate, as kube's certificates
/// controllers recognise it: subject `system:node:NAME` in exactly the group `system:nodes`,
/// no alternative names, and usages limited to a client's (with `client auth`).
enum NodeClientRequest {
    static let userPrefix = "system:node:"
    static let group = "system:nodes"
    static let allowedUsages: Set<String> = ["key encipherment", "digital signature", "client auth"]

    /// Why `request` is not a node's client request; nil when it is.
    static func problem(_ request: CertificateRequest, usages: [String]) -> String? {
        guard request.subject.organizations == [group] else {
            return "subject organization is not \(group)"
        }
        guard request.subject.commonName.hasPrefix(userPrefix), request.subject.commonName.count > userPrefix.count else {
            return "subject common name does not begin with \(userPrefix)"
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
