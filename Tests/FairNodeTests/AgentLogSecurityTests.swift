@testable import FairNode
import FairHTTP
import FairKube
import FairTLS
import Foundation
import XCTest

/// The log endpoint is reached only over TLS and only by the API server: pods share loopback
/// with it, and may hold NET_RAW, so nothing may cross it in clear and nobody else may read.
final class AgentLogSecurityTests: AgentTestCase {
    private let path = "/containerLogs/default/talker/app"

    private func startTalker() throws -> NodeAgent {
        let runtime = ScriptedRuntime()
        runtime.script("app", .init(output: "secret-output\n"))
        let agent = try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("talker", node: "node-1", containers: [["name": "app", "image": "img:1"]])
        waitForPhase("talker", "Running")
        return agent
    }

    /// The request must fail in TLS (curl's handshake, certificate or pin errors), not for any
    /// other reason a test could trip over.
    private func assertRefusedInTLS(_ request: @autoclosure () throws -> TestHTTPResponse, _ what: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try request(), what, file: file, line: line) { error in
            guard case let HTTPError.transport(_, code, message) = error else {
                return XCTFail("\(what): not refused by TLS: \(error)", file: file, line: line)
            }
            // CURLE_SSL_CONNECT_ERROR 35, CURLE_RECV_ERROR 56 (an alert after the handshake, as
            // TLS 1.3 sends a refused client certificate), CURLE_SSL_PINNEDPUBKEYNOTMATCH 90.
            XCTAssertTrue([35, 56, 90].contains(code), "\(what): \(code) \(message)", file: file, line: line)
        }
    }

    func testOnlyTheAPIServersCertificateReadsLogs() throws {
        let agent = try startTalker()
        XCTAssertEqual(try TestNodeLogs.get(agent, cluster: cluster, path: path).body, "secret-output\n")

        // The cluster's admin token, with no certificate: the handshake ends before any request.
        assertRefusedInTLS(try TestNodeLogs.get(agent, cluster: cluster, path: path, as: .anonymous(token: client.config.token)), "the admin token")
        // A client certificate from another root.
        let stranger = try CertificateAuthority.create(commonName: "someone else")
            .issue(commonName: "system:masters", organization: "system:masters", profile: .client)
        let strangerCaller = try TestNodeLogs.caller(presenting: stranger, in: cluster.directory + "/stranger", name: "client")
        assertRefusedInTLS(try TestNodeLogs.get(agent, cluster: cluster, path: path, as: strangerCaller), "another root's client")
        // The cluster's root signed it, but for serving: the API's own serving certificate is no client.
        let serving = "\(cluster.directory)/server/tls"
        assertRefusedInTLS(try TestNodeLogs.get(agent, cluster: cluster, path: path,
                                                as: .certificate(file: "\(serving)/server.crt", key: "\(serving)/server.key")),
                           "a serving certificate as a client")
    }

    func testPlainHTTPIsNotServed() throws {
        let agent = try startTalker()
        // Sent in clear, as the API server once did: the TLS listener answers no HTTP at all.
        let answer = try? TestHTTP.get(port: agent.kubeletPort, path: path, token: client.config.token, timeout: 5)
        XCTAssertNotEqual(answer?.status, 200)
        XCTAssertFalse(answer?.body.contains("secret-output") ?? false)
    }

    func testTheNodePublishesTheKeyItServesWith() throws {
        let agent = try startTalker()
        let pin = try XCTUnwrap(agent.servingPin)
        XCTAssertTrue(pin.hasPrefix("sha256//"), pin)
        let node = try client.get(.nodes, name: "node-1")
        XCTAssertEqual(node.value(at: ["metadata", "annotations", NodeServingKey.annotation])?.stringValue, pin)
        // A client that expects another key (a node impersonated on the same port) stops at once.
        let other = try CertificateAuthority.selfSigned(commonName: "impostor", profile: .server(hosts: ["127.0.0.1"])).publicKeyPin
        assertRefusedInTLS(try TestNodeLogs.get(agent, cluster: cluster, path: path, pin: other), "another key")
        // A restart serves with a new key, and publishes it.
        agent.stop()
        let again = try startAgent(quickOptions("node-1"), runtime: ScriptedRuntime())
        XCTAssertNotEqual(again.servingPin, pin)
        XCTAssertEqual(try client.get(.nodes, name: "node-1").value(at: ["metadata", "annotations", NodeServingKey.annotation])?.stringValue,
                       again.servingPin)
    }

    func testTheClustersOwnNodeHasACertificateFromTheClusterRoot() throws {
        var options = quickOptions("node-1")
        let tls = "\(cluster.directory)/server/tls"
        options.servingCertificateIssuer = try CertificateAuthority.loadOrCreate(directory: tls, commonName: "unused")
        let agent = try startAgent(options, runtime: FakeRuntime())
        // Verified as any TLS client would: the chain to the kubeconfig's root, and the address.
        var configuration = HTTPClient.Configuration()
        configuration.caFile = "\(tls)/ca.crt"
        configuration.clientCertificateFile = "\(tls)/kubelet-client.crt"
        configuration.clientKeyFile = "\(tls)/kubelet-client.key"
        let response = try HTTPClient(configuration: configuration)
            .send(HTTPRequest(method: "GET", url: "https://127.0.0.1:\(agent.kubeletPort)/containerLogs/default/none/app"))
        XCTAssertEqual(response.status, 404)
    }
}
