import FairKube
import FairServer
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import XCTest
@testable import FairAPIServer

/// `pods/proxy` is forwarded beside the API but decided by it, as kube-apiserver decides it: the
/// bearer token says who, RBAC on `pods/proxy` with the method's verb says whether.
final class ProxyAuthorizationTests: XCTestCase {
    private var directory: String!
    private var api: APIServer!
    private var admin: KubeClient!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "proxy-access-\(UUID().uuidString)"
        api = try APIServer(dataDirectory: directory, token: "admin-token")
        admin = KubeClient(config: Kubeconfig(server: "https://in-process", token: "admin-token"), transport: InProcessTransport(api: api))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func token(for account: String, boundTo clusterRole: String? = nil) throws -> String {
        _ = try admin.create(.serviceAccounts, namespace: "default", ["metadata": ["name": .string(account)]])
        if let clusterRole {
            _ = try admin.create(.roleBindings, namespace: "default", [
                "metadata": ["name": .string(account)],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(clusterRole)],
                "subjects": [["kind": "ServiceAccount", "name": .string(account), "namespace": "default"]],
            ])
        }
        let answer = try admin.post(.serviceAccounts, namespace: "default", name: account, subresource: "token",
                                    ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": [:]])
        return try XCTUnwrap(answer.value(at: "status.token")?.stringValue)
    }

    /// nil when allowed, else the refusal's status code and message.
    private func decide(_ method: HTTPRequest.Method, token: String?) throws -> (code: Int, message: String)? {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        let head = HTTPRequest(method: method, scheme: "https", authority: "in-process",
                               path: "/api/v1/namespaces/default/pods/web:8470/proxy/manifest", headerFields: fields)
        let context = Context(source: Source(logger: Logger(label: "test")))
        let api = self.api!
        nonisolated(unsafe) var refusal: Response?
        try awaitSync {
            refusal = await api.refusal(toProxy: Request(head: head, body: RequestBody(buffer: ByteBuffer())), context: context,
                                        resource: "pods", namespace: "default", name: "web")
        }
        guard let response = refusal else { return nil }
        let collector = Collector()
        try awaitSync { try await response.body.write(collector) }
        let status = try JSONCoding.decode(Data(collector.buffer.readableBytesView))
        return (response.status.code, status["message"]?.stringValue ?? "")
    }

    func testTheMethodsVerbOnPodsProxyDecides() throws {
        XCTAssertNil(try decide(.get, token: "admin-token"))
        XCTAssertNil(try decide(.put, token: "admin-token"))
        XCTAssertEqual(try decide(.get, token: nil)?.code, 401)
        XCTAssertEqual(try decide(.get, token: "forged")?.code, 401)

        let idle = try token(for: "idle")
        let refused = try decide(.get, token: idle)
        XCTAssertEqual(refused?.code, 403)
        XCTAssertEqual(refused?.message, #"pods "web" is forbidden: User "system:serviceaccount:default:idle" cannot get resource "pods/proxy" in API group "" in the namespace "default""#)
        // view reads pods, not pods/proxy; edit may proxy with every verb.
        let viewer = try token(for: "viewer", boundTo: "view")
        XCTAssertEqual(try decide(.get, token: viewer)?.code, 403)
        let editor = try token(for: "editor", boundTo: "edit")
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete] {
            XCTAssertNil(try decide(method, token: editor), "\(method)")
        }
        XCTAssertEqual(try decide(.put, token: idle)?.message.contains("cannot update resource \"pods/proxy\""), true)
        XCTAssertEqual(try decide(.post, token: idle)?.message.contains("cannot create resource \"pods/proxy\""), true)
        XCTAssertEqual(try decide(.delete, token: idle)?.message.contains("cannot delete resource \"pods/proxy\""), true)
    }

    private struct Source: RequestContextSource {
        var logger: Logger
    }

    private struct Context: RequestContext {
        typealias Source = ProxyAuthorizationTests.Source
        var coreContext: CoreRequestContextStorage
        init(source: Source) { coreContext = .init(source: source) }
    }

    private final class Collector: ResponseBodyWriter, @unchecked Sendable {
        var buffer = ByteBuffer()
        func write(_ buffer: ByteBuffer) async throws { self.buffer.writeImmutableBuffer(buffer) }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    private func awaitSync(_ work: @escaping @Sendable () async throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        Task {
            do { try await work() } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }
}
