import Crypto
import FairKube
import FairSupport
import FairServer
import Foundation
import XCTest
@testable import FairAPIServer

/// Authentication and RBAC through the API server's handlers (in process: the same code paths
/// as HTTPS, without sockets): service-account tokens, bindings, kube's 403 messages, the
/// reviews kubectl's `auth` commands send, escalation, and the token volume pods are given.
final class AccessControlTests: XCTestCase {
    private var directory: String!
    private var api: APIServer!
    private var admin: KubeClient!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "access-\(UUID().uuidString)"
        api = try APIServer(dataDirectory: directory, token: "admin-token")
        admin = try client(token: "admin-token")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func client(token: String) throws -> KubeClient {
        KubeClient(config: Kubeconfig(server: "https://in-process", token: token), transport: InProcessTransport(api: api))
    }

    /// A service account in `namespace` and a client holding a fresh token of it.
    private func account(_ name: String, in namespace: String = "default") throws -> KubeClient {
        if (try? admin.get(.namespaces, name: namespace)) == nil {
            _ = try admin.create(.namespaces, ["metadata": ["name": .string(namespace)]])
        }
        _ = try admin.create(.serviceAccounts, namespace: namespace, ["metadata": ["name": .string(name)]])
        let answer = try admin.post(.serviceAccounts, namespace: namespace, name: name, subresource: "token",
                                    ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": [:]])
        return try client(token: XCTUnwrap(answer.value(at: "status.token")?.stringValue))
    }

    private func bind(_ account: String, in namespace: String, to clusterRole: String) throws {
        _ = try admin.create(.roleBindings, namespace: namespace, [
            "metadata": ["name": .string("\(account)-\(clusterRole)")],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(clusterRole)],
            "subjects": [["kind": "ServiceAccount", "name": .string(account), "namespace": .string(namespace)]],
        ])
    }

    private func refusal(_ work: () throws -> Any) -> KubeError? {
        do {
            _ = try work()
            return nil
        } catch {
            return error as? KubeError
        }
    }

    func testAnUnboundAccountMayDoNothingAndIsToldSoInKubesWords() throws {
        let runner = try account("runner")
        let listing = refusal { try runner.list(.pods, namespace: "default") }
        XCTAssertEqual(listing?.code, 403)
        XCTAssertEqual(listing?.message, #"pods is forbidden: User "system:serviceaccount:default:runner" cannot list resource "pods" in API group "" in the namespace "default""#)
        let named = refusal { try runner.get(.deployments, namespace: "default", name: "web") }
        XCTAssertEqual(named?.message, #"deployments.apps "web" is forbidden: User "system:serviceaccount:default:runner" cannot get resource "deployments" in API group "apps" in the namespace "default""#)
        let cluster = refusal { try runner.list(.nodes) }
        XCTAssertEqual(cluster?.message, #"nodes is forbidden: User "system:serviceaccount:default:runner" cannot list resource "nodes" in API group "" at the cluster scope"#)
        let logs = refusal { try runner.get(.pods, namespace: "default", name: "p", subresource: "log") }
        XCTAssertEqual(logs?.message, #"pods "p" is forbidden: User "system:serviceaccount:default:runner" cannot get resource "pods/log" in API group "" in the namespace "default""#)
        // Discovery is everyone's (system:discovery is bound to system:authenticated).
        XCTAssertEqual(try runner.raw("GET", path: "/api").status, 200)
        XCTAssertEqual(try runner.raw("GET", path: "/metrics").status, 403)
        XCTAssertEqual(try client(token: "not-a-token").raw("GET", path: "/api").status, 401)
    }

    func testViewReadsButNeitherWritesNorReadsSecrets() throws {
        let runner = try account("runner", in: "ml")
        try bind("runner", in: "ml", to: "view")
        _ = try admin.create(.configMaps, namespace: "ml", ["metadata": ["name": "settings"], "data": ["a": "1"]])
        XCTAssertEqual(try runner.get(.configMaps, namespace: "ml", name: "settings").value(at: "data.a"), "1")
        XCTAssertEqual(try runner.list(.pods, namespace: "ml")["items"]?.arrayValue?.count, 0)
        XCTAssertEqual(refusal { try runner.list(.secrets, namespace: "ml") }?.code, 403)
        XCTAssertEqual(refusal { try runner.create(.configMaps, namespace: "ml", ["metadata": ["name": "x"]]) }?.code, 403)
        // The binding is in ml: other namespaces stay closed.
        XCTAssertEqual(refusal { try runner.list(.pods, namespace: "default") }?.code, 403)
    }

    func testReviewsAnswerWhoAndWhatAsKubectlAuthAsks() throws {
        let runner = try account("runner", in: "ml")
        try bind("runner", in: "ml", to: "edit")
        let whoami = try runner.raw("POST", path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                    body: Array(#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#.utf8))
        XCTAssertEqual(whoami.status, 201)
        let user = try JSONCoding.decode(whoami.body).value(at: "status.userInfo")
        XCTAssertEqual(user?["username"], "system:serviceaccount:ml:runner")
        XCTAssertEqual(user?["groups"], ["system:serviceaccounts", "system:serviceaccounts:ml", "system:authenticated"])
        func canI(_ verb: String, _ resource: String, _ namespace: String, subresource: String = "") throws -> Bool? {
            let body: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                   "spec": ["resourceAttributes": ["verb": .string(verb), "resource": .string(resource),
                                                                   "subresource": .string(subresource), "namespace": .string(namespace)]]]
            let answer = try runner.raw("POST", path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: JSONCoding.encodeBytes(body))
            XCTAssertEqual(answer.status, 201)
            return try JSONCoding.decode(answer.body).value(at: "status.allowed")?.boolValue
        }
        XCTAssertEqual(try canI("create", "pods", "ml"), true)
        XCTAssertEqual(try canI("get", "pods", "ml", subresource: "log"), true)
        XCTAssertEqual(try canI("create", "roles", "ml"), false)
        XCTAssertEqual(try canI("list", "pods", "default"), false)
        // Never stored, so never listed.
        XCTAssertEqual(try admin.raw("GET", path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").status, 405)
    }

    func testNoOneGrantsWhatTheyDoNotHold() throws {
        let owner = try account("owner", in: "team")
        try bind("owner", in: "team", to: "admin")
        let escalation = refusal {
            try owner.create(.roleBindings, namespace: "team", [
                "metadata": ["name": "grab"],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"],
                "subjects": [["kind": "ServiceAccount", "name": "owner", "namespace": "team"]],
            ])
        }
        XCTAssertEqual(escalation?.code, 403)
        XCTAssertTrue(escalation?.message.contains("is attempting to grant RBAC permissions not currently held") ?? false, "\(String(describing: escalation))")
        let wider = refusal {
            try owner.create(.roles, namespace: "team", ["metadata": ["name": "all"],
                                                         "rules": [["apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]]]])
        }
        XCTAssertEqual(wider?.code, 403)
        // What admin holds, it may hand on.
        _ = try owner.create(.roles, namespace: "team", ["metadata": ["name": "reader"],
                                                         "rules": [["apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]]]])
        _ = try owner.create(.roleBindings, namespace: "team", [
            "metadata": ["name": "reader"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"],
            "subjects": [["kind": "ServiceAccount", "name": "owner", "namespace": "team"]],
        ])
    }

    func testTokensDieWithTheirAccountOrPodAndAreCheckedForAudienceAndExpiry() throws {
        let runner = try account("runner")
        try bind("runner", in: "default", to: "view")
        XCTAssertEqual(try runner.list(.pods, namespace: "default")["items"]?.arrayValue?.count, 0)
        let tokens = try XCTUnwrap(api.tokens)
        let account = try admin.get(.serviceAccounts, namespace: "default", name: "runner")
        let uid = try XCTUnwrap(account.uid)
        let expired = try tokens.issue(namespace: "default", name: "runner", uid: uid, audiences: [tokens.issuer],
                                       expirationSeconds: 600, boundTo: nil, now: Date().addingTimeInterval(-601))
        XCTAssertEqual(try client(token: expired.token).raw("GET", path: "/api/v1/namespaces/default/pods").status, 401)
        let elsewhere = try tokens.issue(namespace: "default", name: "runner", uid: uid, audiences: ["vault"], expirationSeconds: 600, boundTo: nil)
        XCTAssertEqual(try client(token: elsewhere.token).raw("GET", path: "/api/v1/namespaces/default/pods").status, 401)
        // A forged signature: the same claims, one character inside the signature changed (not
        // the last, whose low bits are padding).
        let good = try tokens.issue(namespace: "default", name: "runner", uid: uid, audiences: [tokens.issuer], expirationSeconds: 600, boundTo: nil)
        var characters = Array(good.token)
        let index = characters.count - 10
        characters[index] = characters[index] == "A" ? "B" : "A"
        let forged = String(characters)
        XCTAssertEqual(try client(token: forged).raw("GET", path: "/api/v1/namespaces/default/pods").status, 401)
        XCTAssertEqual(try client(token: good.token).raw("GET", path: "/api/v1/namespaces/default/pods").status, 200)
        // Bound to a pod: valid while that pod is.
        _ = try admin.create(.pods, namespace: "default", ["metadata": ["name": "worker"],
                                                           "spec": ["serviceAccountName": "runner", "containers": [["name": "c", "image": "x"]]]])
        let pod = try admin.get(.pods, namespace: "default", name: "worker")
        let bound = try admin.post(.serviceAccounts, namespace: "default", name: "runner", subresource: "token", [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": ["boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": "worker", "uid": .string(pod.uid ?? "")]],
        ])
        let podClient = try client(token: XCTUnwrap(bound.value(at: "status.token")?.stringValue))
        XCTAssertEqual(try podClient.raw("GET", path: "/api/v1/namespaces/default/pods").status, 200)
        try admin.delete(.pods, namespace: "default", name: "worker", gracePeriodSeconds: 0)
        XCTAssertEqual(try podClient.raw("GET", path: "/api/v1/namespaces/default/pods").status, 401)
        // The account deleted (and made again, with a new uid): its old tokens are dead.
        try admin.delete(.serviceAccounts, namespace: "default", name: "runner")
        _ = try admin.create(.serviceAccounts, namespace: "default", ["metadata": ["name": "runner"]])
        XCTAssertEqual(try client(token: good.token).raw("GET", path: "/api/v1/namespaces/default/pods").status, 401)
    }

    func testTokenRequestsAreValidatedAndSignedWithThePublishedKey() throws {
        _ = try admin.create(.serviceAccounts, namespace: "default", ["metadata": ["name": "runner"]])
        let short = refusal {
            try self.admin.post(.serviceAccounts, namespace: "default", name: "runner", subresource: "token",
                                ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 599]])
        }
        XCTAssertEqual(short?.code, 422)
        XCTAssertTrue(short?.message.contains("may not specify a duration less than 10 minutes") ?? false)
        XCTAssertEqual(refusal {
            try self.admin.post(.serviceAccounts, namespace: "default", name: "nobody", subresource: "token", ["kind": "TokenRequest"])
        }?.code, 404)
        let answer = try admin.post(.serviceAccounts, namespace: "default", name: "runner", subresource: "token",
                                    ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["audiences": ["vault"], "expirationSeconds": 900]])
        let token = try XCTUnwrap(answer.value(at: "status.token")?.stringValue)
        let expiry = try XCTUnwrap(KubeTime.parse(answer.value(at: "status.expirationTimestamp")))
        XCTAssertEqual(expiry.timeIntervalSinceNow, 900, accuracy: 5)
        // Checked as an OIDC consumer would: the key from the JWKS the discovery document names.
        let discovery = try JSONCoding.decode(try admin.raw("GET", path: "/.well-known/openid-configuration").body)
        XCTAssertEqual(discovery["issuer"]?.stringValue, ServiceAccountTokens.defaultIssuer)
        let keys = try JSONCoding.decode(try admin.raw("GET", path: "/openid/v1/jwks").body)
        let key = try XCTUnwrap(keys["keys"]?.arrayValue?.first)
        let x = try XCTUnwrap(Base64URL.decode(Substring(key["x"]?.stringValue ?? "")))
        let y = try XCTUnwrap(Base64URL.decode(Substring(key["y"]?.stringValue ?? "")))
        let publicKey = try P256.Signing.PublicKey(rawRepresentation: x + y)
        let parts = token.split(separator: ".")
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: XCTUnwrap(Base64URL.decode(parts[2])))
        XCTAssertTrue(publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)))
        let claims = try JSONCoding.decode(XCTUnwrap(Base64URL.decode(parts[1])))
        XCTAssertEqual(claims["aud"], ["vault"])
        XCTAssertEqual(claims["sub"], "system:serviceaccount:default:runner")
        XCTAssertEqual(claims.value(at: "kubernetes.io.namespace"), nil, "dotted keys are not paths")
        XCTAssertEqual(claims["kubernetes.io"]?["namespace"], "default")
        // A token for another audience is not a credential for the API.
        XCTAssertEqual(try client(token: token).raw("GET", path: "/api").status, 401)
    }

    func testPodsGetTheirAccountsTokenVolumeUnlessTheyOptOut() throws {
        let pod = try admin.create(.pods, namespace: "default", ["metadata": ["name": "p"],
                                                                 "spec": ["containers": [["name": "c", "image": "x"]], "initContainers": [["name": "i", "image": "x"]]]])
        let volume = try XCTUnwrap(pod.value(at: "spec.volumes")?.arrayValue?.first)
        XCTAssertTrue(volume["name"]?.stringValue?.hasPrefix("kube-api-access-") ?? false)
        XCTAssertEqual(volume.value(at: "projected.sources")?.arrayValue?.count, 3)
        for path in ["spec.containers", "spec.initContainers"] {
            let mount = pod.value(at: path)?.arrayValue?.first?["volumeMounts"]?.arrayValue?.first
            XCTAssertEqual(mount?["mountPath"], "/var/run/secrets/kubernetes.io/serviceaccount")
            XCTAssertEqual(mount?["readOnly"], true)
            XCTAssertEqual(mount?["name"], volume["name"])
        }
        let optedOut = try admin.create(.pods, namespace: "default", ["metadata": ["name": "q"],
                                                                      "spec": ["automountServiceAccountToken": false, "containers": [["name": "c", "image": "x"]]]])
        XCTAssertNil(optedOut.value(at: "spec.volumes"))
        _ = try admin.create(.serviceAccounts, namespace: "default", ["metadata": ["name": "quiet"], "automountServiceAccountToken": false])
        let quiet = try admin.create(.pods, namespace: "default", ["metadata": ["name": "r"],
                                                                   "spec": ["serviceAccountName": "quiet", "containers": [["name": "c", "image": "x"]]]])
        XCTAssertNil(quiet.value(at: "spec.volumes"))
        let missing = refusal {
            try self.admin.create(.pods, namespace: "default", ["metadata": ["name": "s"],
                                                                "spec": ["serviceAccountName": "ghost", "containers": [["name": "c", "image": "x"]]]])
        }
        XCTAssertEqual(missing?.code, 403)
        XCTAssertEqual(missing?.message, #"pods "s" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found"#)
    }

    func testTheDefaultRolesAreThereAndComeBackWhenDeleted() throws {
        for name in ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user"] {
            XCTAssertNoThrow(try admin.get(.clusterRoles, name: name), name)
        }
        XCTAssertEqual(try admin.get(.clusterRoleBindings, name: "cluster-admin").value(at: "subjects")?.arrayValue?.first?["name"], "system:masters")
        try admin.delete(.clusterRoles, name: "view")
        api = try APIServer(dataDirectory: directory, token: "admin-token")  // a restart
        admin = try client(token: "admin-token")
        XCTAssertNoThrow(try admin.get(.clusterRoles, name: "view"))
    }
}
