import FairKube
import FairServer
import Foundation
import XCTest
@testable import FairAPIServer

/// What a node's credential reaches, through the API server's handlers as `system:node:NAME`:
/// the objects its own pods name and nothing else, its own Node and pods, tokens only bound to
/// its pods; and certificate requests that record their requester and change only by the
/// subresource meant for each part.
final class NodeAuthorizationTests: XCTestCase {
    private var directory: String!
    private var api: APIServer!
    private var admin: KubeClient!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "node-auth-\(UUID().uuidString)"
        api = try APIServer(dataDirectory: directory, token: "admin-token")
        admin = KubeClient(config: Kubeconfig(server: "https://in-process", token: "admin-token"), transport: InProcessTransport(api: api))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func node(_ name: String) -> KubeClient {
        KubeClient(config: Kubeconfig(server: "https://in-process"),
                   transport: InProcessTransport(api: api, user: UserInfo(name: "system:node:\(name)", groups: ["system:nodes", "system:authenticated"])))
    }

    private func code(_ work: () throws -> Any) -> Int {
        do {
            _ = try work()
            return 200
        } catch {
            return (error as? KubeError)?.code ?? -1
        }
    }

    private func pod(_ name: String, on nodeName: String, volumes: JSONValue = [], env: JSONValue = []) throws {
        _ = try admin.create(.pods, namespace: "default", [
            "metadata": ["name": .string(name)],
            "spec": ["nodeName": .string(nodeName), "volumes": volumes,
                     "containers": [["name": "main", "image": "busybox", "env": env]]],
        ])
    }

    func testANodeReadsWhatItsPodsNameAndNothingElse() throws {
        for name in ["env-secret", "volume-secret", "other-secret"] {
            _ = try admin.create(.secrets, namespace: "default", ["metadata": ["name": .string(name)], "stringData": ["k": "v"]])
        }
        _ = try admin.create(.configMaps, namespace: "default", ["metadata": ["name": "projected"], "data": ["a": "1"]])
        _ = try admin.create(.persistentVolumes, [
            "metadata": ["name": "pv-data"],
            "spec": ["capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "hostPath": ["path": "/tmp/pv-data"],
                     "storageClassName": "manual"],
        ])
        _ = try admin.create(.persistentVolumeClaims, namespace: "default", [
            "metadata": ["name": "data"],
            "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]], "storageClassName": "manual",
                     "volumeName": "pv-data"],
        ])
        let gpu = node("gpu"), cpu = node("cpu")
        XCTAssertEqual(code { try gpu.get(.secrets, namespace: "default", name: "env-secret") }, 403)
        try pod("trainer", on: "gpu", volumes: [
            ["name": "s", "secret": ["secretName": "volume-secret"]],
            ["name": "p", "projected": ["sources": [["configMap": ["name": "projected"]]]]],
            ["name": "d", "persistentVolumeClaim": ["claimName": "data"]],
        ], env: [["name": "K", "valueFrom": ["secretKeyRef": ["name": "env-secret", "key": "k"]]]])
        for name in ["env-secret", "volume-secret"] {
            XCTAssertEqual(code { try gpu.get(.secrets, namespace: "default", name: name) }, 200, name)
            XCTAssertEqual(code { try cpu.get(.secrets, namespace: "default", name: name) }, 403, name)
        }
        XCTAssertEqual(code { try gpu.get(.secrets, namespace: "default", name: "other-secret") }, 403)
        // A list is a read of everything; one naming a single object is a get of it.
        XCTAssertEqual(code { try gpu.list(.secrets, namespace: "default") }, 403)
        XCTAssertEqual(code { try gpu.list(.secrets, namespace: "default", fieldSelector: "metadata.name=env-secret") }, 200)
        XCTAssertEqual(code { try gpu.get(.configMaps, namespace: "default", name: "projected") }, 200)
        XCTAssertEqual(code { try gpu.get(.persistentVolumeClaims, namespace: "default", name: "data") }, 200)
        XCTAssertEqual(code { try gpu.get(.persistentVolumes, name: "pv-data") }, 200)
        XCTAssertEqual(code { try cpu.get(.persistentVolumes, name: "pv-data") }, 403)
        // What every kubelet reads.
        XCTAssertEqual(code { try cpu.list(.pods) }, 200)
        XCTAssertEqual(code { try cpu.list(.services) }, 200)
        XCTAssertEqual(code { try cpu.list(.configMaps, namespace: "default") }, 403)
    }

    func testANodeChangesOnlyItselfAndItsPods() throws {
        let gpu = node("gpu")
        let other = code { try gpu.create(.nodes, ["metadata": ["name": "cpu"]]) }
        XCTAssertEqual(other, 403)
        _ = try gpu.create(.nodes, ["metadata": ["name": "gpu"]])
        _ = try admin.create(.nodes, ["metadata": ["name": "cpu"]])
        XCTAssertEqual(code { try gpu.mergePatch(.nodes, name: "gpu", ["metadata": ["labels": ["a": "b"]]]) }, 200)
        XCTAssertEqual(code { try gpu.mergePatch(.nodes, name: "cpu", ["metadata": ["labels": ["a": "b"]]]) }, 403)
        XCTAssertEqual(code { try gpu.mergePatch(.nodes, name: "cpu", ["status": ["phase": "Running"]], subresource: "status") }, 403)
        try pod("mine", on: "gpu")
        try pod("theirs", on: "cpu")
        XCTAssertEqual(code { try gpu.mergePatch(.pods, namespace: "default", name: "mine", ["status": ["phase": "Running"]], subresource: "status") }, 200)
        XCTAssertEqual(code { try gpu.mergePatch(.pods, namespace: "default", name: "theirs", ["status": ["phase": "Failed"]], subresource: "status") }, 403)
        XCTAssertEqual(code { try gpu.delete(.pods, namespace: "default", name: "theirs") }, 403)
        XCTAssertEqual(code { try gpu.create(.pods, namespace: "default", ["metadata": ["name": "new"], "spec": ["containers": [["name": "m", "image": "x"]]]]) }, 403)
        XCTAssertEqual(code { try gpu.delete(.pods, namespace: "default", name: "mine") }, 200)
    }

    func testANodeAsksTokensOnlyForItsOwnPods() throws {
        for account in ["trainer", "default"] {
            _ = try admin.create(.serviceAccounts, namespace: "default", ["metadata": ["name": .string(account)]])
        }
        try pod("on-gpu", on: "gpu")
        _ = try admin.create(.pods, namespace: "default", [
            "metadata": ["name": "trainer-pod"],
            "spec": ["nodeName": "gpu", "serviceAccountName": "trainer", "containers": [["name": "m", "image": "x"]]],
        ])
        try pod("on-cpu", on: "cpu")
        let gpu = node("gpu")
        func ask(_ account: String, boundTo pod: String?) -> Int {
            var spec: [String: JSONValue] = [:]
            if let pod { spec["boundObjectRef"] = ["kind": "Pod", "apiVersion": "v1", "name": .string(pod)] }
            return code { try gpu.post(.serviceAccounts, namespace: "default", name: account, subresource: "token",
                                       ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": .object(spec)]) }
        }
        XCTAssertEqual(ask("trainer", boundTo: "trainer-pod"), 200)
        XCTAssertEqual(ask("trainer", boundTo: nil), 403)
        XCTAssertEqual(ask("default", boundTo: "on-cpu"), 403)
        XCTAssertEqual(ask("default", boundTo: "on-gpu"), 200)
    }

    func testACertificateRequestRecordsItsRequesterAndEachSubresourceItsPart() throws {
        let body: JSONValue = [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": ["name": "req"],
            "spec": ["request": .string(Data("-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n".utf8).base64EncodedString()),
                     "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"],
                     "username": "someone-else", "groups": ["system:masters"]],
        ]
        let gpu = node("gpu")
        let created = try gpu.create(.certificateSigningRequests, body)
        XCTAssertEqual(created.value(at: "spec.username")?.stringValue, "system:node:gpu")
        XCTAssertEqual(created.value(at: "spec.groups"), ["system:nodes", "system:authenticated"])
        // A node may not approve, even its own.
        var approved = CertificateSigningRules.setting(["type": "Approved", "status": "True", "reason": "Mine"], in: created)
        XCTAssertEqual(code { try gpu.update(.certificateSigningRequests, approved, subresource: "approval") }, 403)
        // The status subresource cannot approve; approval cannot issue.
        var viaStatus = approved
        viaStatus.set(.string(Data("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()), at: "status.certificate")
        XCTAssertEqual(code { try admin.update(.certificateSigningRequests, viaStatus, subresource: "status") }, 422)
        approved = try admin.update(.certificateSigningRequests, viaStatus, subresource: "approval")
        XCTAssertTrue(CertificateSigningRules.isApproved(approved))
        XCTAssertNil(approved.value(at: "status.certificate"))
        // Approved and Denied exclude each other; the spec is fixed.
        let denied = CertificateSigningRules.setting(["type": "Denied", "status": "True"], in: approved)
        XCTAssertEqual(code { try admin.update(.certificateSigningRequests, denied, subresource: "approval") }, 422)
        var changed = approved
        changed.set("kubernetes.io/kube-apiserver-client-kubelet", at: "spec.signerName")
        XCTAssertEqual(code { try admin.update(.certificateSigningRequests, changed) }, 422)
        let bad = code { try admin.create(.certificateSigningRequests, ["metadata": ["name": "bad"], "spec": ["request": "bm90IGEgcmVxdWVzdA==", "signerName": "nodomain", "usages": ["flying"]]]) }
        XCTAssertEqual(bad, 422)
    }
}
