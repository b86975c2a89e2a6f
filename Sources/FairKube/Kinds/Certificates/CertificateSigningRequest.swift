import Foundation

/// A request for a certificate from one of the cluster's signers (certificates.k8s.io/v1
/// CertificateSigningRequest): how a node is given its client certificate. The API server
/// writes who asked into the spec; an approver adds `Approved` or `Denied` through the
/// `approval` subresource (`kubectl certificate approve`); the signer named in `signerName`
/// writes the certificate through `status`.
extension KindDefinition {
    public static let certificateSigningRequest = KindDefinition(
        group: "certificates.k8s.io", version: "v1", kind: "CertificateSigningRequest", plural: "certificatesigningrequests",
        namespaced: false, shortNames: ["csr"], subresources: ["status", "approval"],
        prepareCreate: { request in
            request["status"] = [:]
        },
        validate: { request in CertificateSigningRules.causes(request) },
        validateUpdate: { old, new in
            old["spec"] == new["spec"] ? [] : [FieldCause("spec", "Forbidden: field is immutable")]
        },
        columns: [
            .name,
            .age,
            .text("SignerName", "spec.signerName", or: ""),
            .text("Requestor", "spec.username", or: ""),
            TableColumn(name: "RequestedDuration") { object, _ in
                .string(object.value(at: "spec.expirationSeconds")?.intValue.map { Printing.humanDuration(TimeInterval($0)) } ?? "<none>")
            },
            TableColumn(name: "Condition") { object, _ in .string(CertificateSigningRules.conditionText(object)) },
        ])
}

extension APIResource {
    public static let certificateSigningRequests = KindDefinition.certificateSigningRequest.resource
}

/// The names and checks of certificate requests, as kube's certificates API validation has them.
public enum CertificateSigningRules {
    /// Client certificates for kubelets: subject `system:node:NAME` in `system:nodes`.
    public static let kubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet"
    /// Client certificates for any user of the API server; never approved automatically.
    public static let apiServerClientSigner = "kubernetes.io/kube-apiserver-client"

    public static let usages: Set<String> = [
        "signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment",
        "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing",
        "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
        "microsoft sgc", "netscape sgc",
    ]

    static func causes(_ request: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        let encoded = request.value(at: "spec.request")?.stringValue ?? ""
        if encoded.isEmpty {
            causes.append(FieldCause("spec.request", "Required value"))
        } else if let text = Data(base64Encoded: encoded).flatMap({ String(data: $0, encoding: .utf8) }),
                  text.contains("-----BEGIN CERTIFICATE REQUEST-----") {
            // Parsed and its signature checked by the signer, which is what trusts it.
        } else {
            causes.append(FieldCause("spec.request", "Invalid value: \"<request>\": PEM block type must be CERTIFICATE REQUEST"))
        }
        let signer = request.value(at: "spec.signerName")?.stringValue ?? ""
        if signer.isEmpty {
            causes.append(FieldCause("spec.signerName", "Required value"))
        } else if !isQualifiedSignerName(signer) {
            causes.append(FieldCause("spec.signerName", "Invalid value: \"\(signer)\": must be a fully qualified domain and path of the form 'example.com/signer-name'"))
        }
        let usages = request.value(at: "spec.usages")?.arrayValue ?? []
        if usages.isEmpty { causes.append(FieldCause("spec.usages", "Required value")) }
        for (index, usage) in usages.enumerated() where !Self.usages.contains(usage.stringValue ?? "") {
            causes.append(FieldCause("spec.usages[\(index)]", "Unsupported value: \(usage)"))
        }
        if let seconds = request.value(at: "spec.expirationSeconds")?.intValue, seconds < 600 {
            causes.append(FieldCause("spec.expirationSeconds", "Invalid value: \(seconds): may not specify a duration less than 600 seconds (10 minutes)"))
        }
        let conditions = request.value(at: "status.conditions")?.arrayValue ?? []
        let types = conditions.map { $0["type"]?.stringValue ?? "" }
        for (index, type) in types.enumerated() {
            if type.isEmpty { causes.append(FieldCause("status.conditions[\(index)].type", "Required value")) }
            if ["Approved", "Denied", "Failed"].contains(type), types.filter({ $0 == type }).count > 1 {
                causes.append(FieldCause("status.conditions[\(index)].type", "Duplicate value: \"\(type)\""))
            }
            let status = conditions[index]["status"]?.stringValue ?? "True"
            if !["True", "False", "Unknown"].contains(status) {
                causes.append(FieldCause("status.conditions[\(index)].status", "Unsupported value: \"\(status)\": supported values: \"False\", \"True\", \"Unknown\""))
            }
        }
        if isApproved(request) && isDenied(request) {
            causes.append(FieldCause("status.conditions", "Invalid value: \"Approved\": Approved and Denied conditions are mutually exclusive"))
        }
        if let certificate = request.value(at: "status.certificate")?.stringValue, !certificate.isEmpty {
            if !isApproved(request) { causes.append(FieldCause("status.certificate", "Forbidden: only allowed when the request is approved")) }
            let text = Data(base64Encoded: certificate).flatMap { String(data: $0, encoding: .utf8) } ?? ""
            if !text.contains("-----BEGIN CERTIFICATE-----") {
                causes.append(FieldCause("status.certificate", "Invalid value: \"<certificate data>\": must contain at least one CERTIFICATE PEM block"))
            }
        }
        return causes
    }

    /// `example.com/name`: a DNS subdomain, a slash, and a path.
    static func isQualifiedSignerName(_ name: String) -> Bool {
        let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[0].contains(".") else { return false }
        return parts[0].allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }
    }

    static func hasCondition(_ request: JSONValue, _ type: String) -> Bool {
        (request.value(at: "status.conditions")?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == type && ($0["status"]?.stringValue ?? "True") == "True"
        }
    }

    public static func isApproved(_ request: JSONValue) -> Bool { hasCondition(request, "Approved") }
    public static func isDenied(_ request: JSONValue) -> Bool { hasCondition(request, "Denied") }
    public static func isFailed(_ request: JSONValue) -> Bool { hasCondition(request, "Failed") }

    /// kubectl's CONDITION column: `Approved,Issued`, `Pending`, `Denied`.
    static func conditionText(_ request: JSONValue) -> String {
        var words: [String] = []
        for condition in request.value(at: "status.conditions")?.arrayValue ?? [] {
            if let type = condition["type"]?.stringValue { words.append(type) }
        }
        if words.isEmpty { words.append("Pending") }
        if let certificate = request.value(at: "status.certificate")?.stringValue, !certificate.isEmpty { words.append("Issued") }
        return words.joined(separator: ",")
    }

    /// The condition list with `condition` in place of any of its type, as approvers write it.
    public static func setting(_ condition: JSONValue, in request: JSONValue) -> JSONValue {
        var request = request
        let type = condition["type"]?.stringValue
        var conditions = (request.value(at: "status.conditions")?.arrayValue ?? []).filter { $0["type"]?.stringValue != type }
        conditions.append(condition)
        request.set(.array(conditions), at: "status.conditions")
        return request
    }
}
