import FairControllers
import FairKube
import FairTLS
import Foundation
import XCTest

/// The certificate controllers through the API: a node's request from a requester who may ask
/// is approved and signed with the cluster's root; a request that is not a node's shape waits
/// for a person, and the kubelet signer refuses one that was approved anyway.
final class CertificateControllersTests: ControllerTestCase {
    private let authority = try! CertificateAuthority.create(commonName: "test cluster CA")

    private func request(_ name: String, subject: CertificateSubject, signer: String = CertificateSigningRules.kubeletClientSigner,
                         usages: [String] = ["digital signature", "client auth"]) throws -> String {
        let (pem, key) = try CertificateRequest.make(subject: subject)
        _ = try client.create(.certificateSigningRequests, [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": ["name": .string(name)],
            "spec": ["request": .string(Data(pem.utf8).base64EncodedString()), "signerName": .string(signer),
                     "usages": .array(usages.map { .string($0) })],
        ])
        return key
    }

    private func certificate(_ name: String) throws -> String? {
        guard let encoded = try client.get(.certificateSigningRequests, name: name).value(at: "status.certificate")?.stringValue,
              let data = Data(base64Encoded: encoded) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    func testANodesRequestIsApprovedAndSignedByTheClusterRoot() throws {
        startControllers { $0.clusterSigner = self.authority }
        let node = CertificateSubject(commonName: "system:node:gpu-1", organizations: ["system:nodes"])
        let key = try request("node-csr-gpu-1", subject: node)
        try waitUntil("the certificate is issued") { try certificate("node-csr-gpu-1") != nil }
        let issued = TLSIdentity(certificatePEM: try XCTUnwrap(certificate("node-csr-gpu-1")), privateKeyPEM: key)
        XCTAssertEqual(CertificateSubject.of(certificatePEM: issued.certificatePEM), node)
        XCTAssertTrue(issued.isSigned(byAuthorityPEM: authority.certificatePEM))
        let object = try client.get(.certificateSigningRequests, name: "node-csr-gpu-1")
        XCTAssertTrue(CertificateSigningRules.isApproved(object))
        XCTAssertEqual(object.value(at: "status.conditions")?.arrayValue?.first?["reason"]?.stringValue, "AutoApproved")
        let lifetime = try XCTUnwrap(issued.validity)
        XCTAssertEqual(lifetime.upperBound.timeIntervalSince(lifetime.lowerBound), 365 * 24 * 3600 + 3600, accuracy: 5)
    }

    func testOtherShapesWaitForAPersonAndTheKubeletSignerRefusesThem() throws {
        startControllers { $0.clusterSigner = self.authority }
        // A node name with the administrators' group: never approved by the loop.
        let sneaky = CertificateSubject(commonName: "system:node:gpu-1", organizations: ["system:masters"])
        _ = try request("sneaky", subject: sneaky)
        // Any client of the API: a person approves those.
        _ = try request("jane", subject: CertificateSubject(commonName: "jane", organizations: ["ml"]),
                        signer: CertificateSigningRules.apiServerClientSigner)
        settle()
        Thread.sleep(forTimeInterval: 0.3)
        for name in ["sneaky", "jane"] {
            let object = try client.get(.certificateSigningRequests, name: name)
            XCTAssertFalse(CertificateSigningRules.isApproved(object), name)
            XCTAssertNil(try certificate(name), name)
        }
        for name in ["sneaky", "jane"] {
            let object = try client.get(.certificateSigningRequests, name: name)
            let approved = CertificateSigningRules.setting(["type": "Approved", "status": "True", "reason": "KubectlApprove"], in: object)
            _ = try client.update(.certificateSigningRequests, approved, subresource: "approval")
        }
        try waitUntil("jane's certificate is issued") { try certificate("jane") != nil }
        try waitUntil("the sneaky request fails") {
            CertificateSigningRules.isFailed(try client.get(.certificateSigningRequests, name: "sneaky"))
        }
        XCTAssertNil(try certificate("sneaky"))
        let failed = try client.get(.certificateSigningRequests, name: "sneaky").value(at: "status.conditions")?.arrayValue ?? []
        XCTAssertTrue(failed.contains { $0["message"]?.stringValue?.contains("system:nodes") == true }, "\(failed)")
    }
}
