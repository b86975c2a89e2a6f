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

    // Each case below is what encoding/json does with the Go object Kubernetes decodes the body
    // into; kubectl's writer sends every plain field, zero or not, and pointers only when set.

    func testSecretBytesAreBase64AndAPointerFalseIsKept() throws {
        var secret = K8s_Io_Api_Core_V1_Secret()
        secret.metadata.name = "db"
        secret.metadata.namespace = ""
        secret.data = ["password": Data("s3cr=t".utf8), "empty": Data()]
        secret.type = "Opaque"
        secret.immutable = false  // *bool: written even when false
        let json = try KubernetesProtobuf.decode(body(secret, apiVersion: "v1", kind: "Secret"))
        XCTAssertEqual(json.value(at: "data"), ["password": .string(Data("s3cr=t".utf8).base64EncodedString()), "empty": ""])
        XCTAssertEqual(json["immutable"], false)
        XCTAssertEqual(json["type"], "Opaque")
        XCTAssertEqual(json["metadata"], ["name": "db", "creationTimestamp": .null])  // "" namespace: omitempty
        XCTAssertNil(json["stringData"])
    }

    func testAZeroPointerIsKeptAndAZeroOmitemptyFieldIsLeftOut() throws {
        var deployment = K8s_Io_Api_Apps_V1_Deployment()
        deployment.metadata.name = "web"
        deployment.spec.replicas = 0  // *int32
        deployment.spec.paused = false  // bool,omitempty
        deployment.spec.minReadySeconds = 0  // int32,omitempty
        deployment.spec.selector.matchLabels = ["app": "web"]
        var container = K8s_Io_Api_Core_V1_Container()
        container.name = "web"
        container.image = "nginx"
        container.workingDir = ""
        var port = K8s_Io_Api_Core_V1_ContainerPort()
        port.protocol = "TCP"  // containerPort not sent: Go writes its zero, the tag has no omitempty
        container.ports = [port]
        deployment.spec.template.spec.containers = [container]
        let json = try KubernetesProtobuf.decode(body(deployment, apiVersion: "apps/v1", kind: "Deployment"))
        XCTAssertEqual(json.value(at: "spec.replicas"), 0)
        XCTAssertNil(json.value(at: "spec.paused"))
        XCTAssertNil(json.value(at: "spec.minReadySeconds"))
        XCTAssertNil(json.value(at: "spec.revisionHistoryLimit"))  // unset pointer
        XCTAssertEqual(json.value(at: "spec.strategy"), [:])  // a struct is never left out
        XCTAssertEqual(json["status"], [:])
        XCTAssertEqual(json.value(at: "spec.template.metadata"), ["creationTimestamp": .null])
        XCTAssertEqual(json.value(at: "spec.template.spec.containers"),
                       [["name": "web", "image": "nginx", "resources": [:], "ports": [["containerPort": 0, "protocol": "TCP"]]]])
        XCTAssertEqual(json.value(at: "spec.selector"), ["matchLabels": ["app": "web"]])
    }

    func testAFieldWithoutOmitemptyIsWrittenAsItsZero() throws {
        var priority = K8s_Io_Api_Scheduling_V1_PriorityClass()
        priority.metadata.name = "low"
        priority.value = 0  // int32 `json:"value"`
        priority.globalDefault = false
        var role = K8s_Io_Api_Rbac_V1_Role()
        role.metadata.name = "reader"
        var rule = K8s_Io_Api_Rbac_V1_PolicyRule()
        rule.resources = ["pods"]
        role.rules = [rule]
        let priorityJSON = try KubernetesProtobuf.decode(body(priority, apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass"))
        XCTAssertEqual(priorityJSON["value"], 0)
        XCTAssertNil(priorityJSON["globalDefault"])
        XCTAssertNil(priorityJSON["preemptionPolicy"])
        let roleJSON = try KubernetesProtobuf.decode(body(role, apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role"))
        XCTAssertEqual(roleJSON["rules"], [["resources": ["pods"], "verbs": .null]])  // a nil slice without omitempty
    }

    func testAnInlineStructsFieldsAreItsParents() throws {
        var pod = K8s_Io_Api_Core_V1_Pod()
        pod.metadata.name = "p"
        var volume = K8s_Io_Api_Core_V1_Volume()
        volume.name = "scratch"
        var sizeLimit = K8s_Io_Apimachinery_Pkg_Api_Resource_Quantity()
        sizeLimit.string = "1Gi"
        volume.volumeSource.emptyDir.sizeLimit = sizeLimit
        volume.volumeSource.emptyDir.medium = ""
        var probe = K8s_Io_Api_Core_V1_Probe()
        probe.handler.httpGet.path = "/healthz"
        var port = K8s_Io_Apimachinery_Pkg_Util_Intstr_IntOrString()
        port.type = 1
        port.strVal = "http"
        probe.handler.httpGet.port = port
        var container = K8s_Io_Api_Core_V1_Container()
        container.name = "c"
        container.livenessProbe = probe
        pod.spec.volumes = [volume]
        pod.spec.containers = [container]
        let json = try KubernetesProtobuf.decode(body(pod, apiVersion: "v1", kind: "Pod"))
        XCTAssertEqual(json.value(at: "spec.volumes"), [["name": "scratch", "emptyDir": ["sizeLimit": "1Gi"]]])
        XCTAssertEqual(json.value(at: "spec.containers")?.arrayValue?.first?["livenessProbe"],
                       ["httpGet": ["path": "/healthz", "port": "http"]])
    }

    func testQuantitiesAndIntOrStringsAreScalars() throws {
        var requirements = K8s_Io_Api_Core_V1_ResourceRequirements()
        var cpu = K8s_Io_Apimachinery_Pkg_Api_Resource_Quantity()
        cpu.string = "500m"
        requirements.requests = ["cpu": cpu]
        var port = K8s_Io_Api_Core_V1_ServicePort()
        port.port = 80
        var target = K8s_Io_Apimachinery_Pkg_Util_Intstr_IntOrString()
        target.type = 0
        target.intVal = 8080
        port.targetPort = target
        XCTAssertEqual(try ProtobufJSON.value(of: requirements), ["requests": ["cpu": "500m"]])
        XCTAssertEqual(try ProtobufJSON.value(of: port), ["port": 80, "targetPort": 8080])
        // An IntOrString is a struct: written even when zero, though its tag says omitempty.
        XCTAssertEqual(try ProtobufJSON.value(of: K8s_Io_Api_Core_V1_ServicePort()), ["port": 0, "targetPort": 0])
    }

    func testTimesAreRFC3339AndAZeroTimeIsNull() throws {
        var event = K8s_Io_Api_Core_V1_Event()
        event.metadata.name = "e"
        var first = K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_Time()
        first.seconds = 1_700_000_000
        first.nanos = 999_000_000  // Time is to the second
        event.firstTimestamp = first
        var eventTime = K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_MicroTime()
        eventTime.seconds = 1_700_000_000
        eventTime.nanos = 123_456_789
        event.eventTime = eventTime
        let json = try KubernetesProtobuf.decode(body(event, apiVersion: "v1", kind: "Event"))
        XCTAssertEqual(json["firstTimestamp"], "2023-11-14T22:13:20Z")
        XCTAssertEqual(json["lastTimestamp"], .null)  // metav1.Time, not a pointer, never sent
        XCTAssertEqual(json["eventTime"], "2023-11-14T22:13:20.123456Z")
        XCTAssertNil(json["count"])
        XCTAssertEqual(json["involvedObject"], [:])
        XCTAssertEqual(json["source"], [:])
    }

    func testRawExtensionsAreTheJSONTheyCarry() throws {
        var revision = K8s_Io_Api_Apps_V1_ControllerRevision()
        revision.revision = 3
        revision.data.raw = Data(#"{"spec":{"replicas":2}}"#.utf8)
        XCTAssertEqual(try ProtobufJSON.value(of: revision),
                       ["metadata": ["creationTimestamp": .null], "revision": 3, "data": ["spec": ["replicas": 2]]])
        XCTAssertEqual(try ProtobufJSON.value(of: K8s_Io_Api_Apps_V1_ControllerRevision())["data"], .null)
    }

    func testGoDurationsAreWrittenAsGoWritesThem() {
        XCTAssertEqual(GoDuration.string(nanoseconds: 0), "0s")
        XCTAssertEqual(GoDuration.string(nanoseconds: 1_500_000), "1.5ms")
        XCTAssertEqual(GoDuration.string(nanoseconds: 2_000), "2µs")
        XCTAssertEqual(GoDuration.string(nanoseconds: 60_000_000_000), "1m0s")
        XCTAssertEqual(GoDuration.string(nanoseconds: 3_723_500_000_000), "1h2m3.5s")
        XCTAssertEqual(GoDuration.string(nanoseconds: -90_000_000_000), "-1m30s")
    }

    func testJSONNamesComeFromTheGoTagsNotTheProtoNames() throws {
        var reference = K8s_Io_Api_Authentication_V1_BoundObjectReference()
        reference.uID = "1234"  // Go tag `json:"uid"`
        XCTAssertEqual(try ProtobufJSON.value(of: reference), ["uid": "1234"])
    }

    func testAConfigMapsBinaryDataAndNamedSlicesOfExtras() throws {
        var config = K8s_Io_Api_Core_V1_ConfigMap()
        config.data = ["a": "b", "empty": ""]
        config.binaryData = ["blob": Data([0, 1, 2])]
        XCTAssertEqual(try ProtobufJSON.value(of: config),
                       ["metadata": ["creationTimestamp": .null], "data": ["a": "b", "empty": ""], "binaryData": ["blob": "AAEC"]])
        var review = K8s_Io_Api_Authorization_V1_SubjectAccessReviewSpec()
        var groups = K8s_Io_Api_Authorization_V1_ExtraValue()
        groups.items = ["x", "y"]
        review.extra = ["scopes": groups]
        XCTAssertEqual(try ProtobufJSON.value(of: review)["extra"], ["scopes": ["x", "y"]])
    }

    /// kubectl's own bodies (`KubectlProtobufSamples`, captured from kubectl 1.32) against the
    /// JSON kubectl's Go code writes for the same object (`--dry-run=client -o json`).
    func testKubectlsBodiesBecomeTheJSONItsGoTypesWrite() throws {
        for sample in KubectlProtobufSamples.all {
            let bytes = try XCTUnwrap(Data(base64Encoded: sample.protobuf), sample.command)
            let expected = try JSONCoding.decode(Data(sample.json.utf8))
            XCTAssertEqual(try KubernetesProtobuf.decode(Array(bytes)), expected, sample.command)
        }
    }

    /// Bodies reach the decoder before any check of their content: kubectl's, with bytes changed,
    /// cut or repeated, decode or fail with an error, and never trap.
    func testDamagedBodiesAreErrorsNotCrashes() throws {
        var random = SplitMix64(seed: 0x6b38_7300)
        for sample in KubectlProtobufSamples.all {
            let bytes = try XCTUnwrap(Data(base64Encoded: sample.protobuf))
            for _ in 0..<300 {
                var damaged = Array(bytes)
                switch random.next() % 3 {
                case 0: damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
                case 1: damaged.removeLast(Int(random.next() % UInt64(damaged.count - 4)))
                default: damaged += damaged.dropFirst(4 + Int(random.next() % UInt64(damaged.count - 4)))
                }
                _ = try? KubernetesProtobuf.decode(damaged)
            }
        }
    }

    func testKindsNotInTheTableAndGarbageAreRefusedByName() throws {
        let revision = K8s_Io_Api_Apps_V1_ControllerRevision()
        XCTAssertThrowsError(try KubernetesProtobuf.decode(body(revision, apiVersion: "apps/v1", kind: "ControllerRevision"))) { error in
            XCTAssertTrue("\(error)".contains("not apps/v1/ControllerRevision"), "\(error)")
        }
        XCTAssertThrowsError(try KubernetesProtobuf.decode(Array("{\"kind\":\"Pod\"}".utf8)))
        XCTAssertThrowsError(try KubernetesProtobuf.decode(KubernetesProtobuf.magic + [0xff, 0xff, 0xff]))
    }

    func testEveryKindInTheTableHasItsGoFields() throws {
        for (key, type) in ProtobufKinds.types {
            XCTAssertNotNil(GoJSONFields.table[type.protoMessageName], key)
        }
        // Computed kinds (metrics) take no request body to decode.
        for kind in KindCatalog.all where !kind.computed {
            XCTAssertNotNil(ProtobufKinds.types["\(kind.apiVersion)/\(kind.kind)"], "\(kind.apiVersion)/\(kind.kind) has no protobuf message")
        }
    }
}

/// A reproducible generator, so that a failure can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
