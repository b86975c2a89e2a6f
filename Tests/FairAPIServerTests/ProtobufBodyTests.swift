import FairKube
import Foundation
import SwiftProtobuf
import XCTest
@testable import FairKubeProto

/// Bodies as kubectl encodes them: the `k8s\0` magic, a runtime.Unknown naming the kind, the
/// message in `raw`.
final class ProtobufBodyTests: XCTestCase {
    private func body<M: Message>(_ message: M, apiVersion: String, kind: String) throws -> [UInt8] {
        var envelope = K8s_Io_Apimachinery_Pkg_Runtime_Unknown()
        envelope.typeMeta.apiVersion = apiVersion
        envelope.typeMeta.kind = kind
        envelope.raw = try message.serializedBytes()
        return KubernetesProtobuf.magic + (try envelope.serializedBytes() as [UInt8])
    }

    func testAnAccessReviewBecomesKubernetesJSON() throws {
        var review = K8s_Io_Api_Authorization_V1_SelfSubjectAccessReview()
        review.spec.resourceAttributes.verb = "list"
        review.spec.resourceAttributes.resource = "pods"
        review.spec.resourceAttributes.namespace = "ml"
        review.spec.resourceAttributes.group = ""  // written by kubectl, empty: left out as Go's omitempty does
        review.metadata.creationTimestamp = K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_Time()
        let json = try KubernetesProtobuf.decode(body(review, apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview"))
        XCTAssertEqual(json["kind"], "SelfSubjectAccessReview")
        XCTAssertEqual(json["apiVersion"], "authorization.k8s.io/v1")
        XCTAssertEqual(json.value(at: "spec.resourceAttributes"), ["verb": "list", "resource": "pods", "namespace": "ml"])
        XCTAssertEqual(json.value(at: "metadata.creationTimestamp"), .null)
    }

    func testATokenRequestKeepsItsNumbersAndBinding() throws {
        var request = K8s_Io_Api_Authentication_V1_TokenRequest()
        request.spec.audiences = ["vault"]
        request.spec.expirationSeconds = 900
        request.spec.boundObjectRef.kind = "Pod"
        request.spec.boundObjectRef.name = "p"
        var time = K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_Time()
        time.seconds = 1_700_000_000
        request.metadata.creationTimestamp = time
        let json = try KubernetesProtobuf.decode(body(request, apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest"))
        XCTAssertEqual(json.value(at: "spec.expirationSeconds"), 900)
        XCTAssertEqual(json.value(at: "spec.audiences"), ["vault"])
        XCTAssertEqual(json.value(at: "spec.boundObjectRef"), ["kind": "Pod", "name": "p"])
        XCTAssertEqual(json.value(at: "metadata.creationTimestamp"), "2023-11-14T22:13:20Z")
    }

    func testOtherKindsAndGarbageAreRefusedByName() throws {
        let role = K8s_Io_Api_Rbac_V1_Role()
        XCTAssertThrowsError(try KubernetesProtobuf.decode(body(role, apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role"))) { error in
            XCTAssertTrue("\(error)".contains("not rbac.authorization.k8s.io/v1/Role"), "\(error)")
        }
        XCTAssertThrowsError(try KubernetesProtobuf.decode(Array("{\"kind\":\"Pod\"}".utf8)))
        XCTAssertThrowsError(try KubernetesProtobuf.decode(KubernetesProtobuf.magic + [0xff, 0xff, 0xff]))
    }
}
