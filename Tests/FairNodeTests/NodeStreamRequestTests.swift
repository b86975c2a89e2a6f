@testable import FairNode
import XCTest

/// kubelet's stream paths as the node reads them from the API server's relay.
final class NodeStreamRequestTests: XCTestCase {
    func testExecTakesKubeletsParameterNames() throws {
        let target = try XCTUnwrap(NodeExecEndpoint.target(path: "/exec/ns/pod/main", query: "command=sh&command=-c&command=exit+3&input=1&output=1&tty=1&error=1")).get()
        XCTAssertEqual(target.namespace, "ns")
        XCTAssertEqual(target.container, "main")
        XCTAssertEqual(target.request, ExecRequest(command: ["sh", "-c", "exit 3"], stdin: true, stdout: true, stderr: true, tty: true))
        XCTAssertFalse(target.request.stderr, "a terminal has no separate stderr")
    }

    func testExecRefusesWhatKubeletRefuses() {
        XCTAssertEqual(NodeExecEndpoint.target(path: "/exec/ns/pod/main", query: "output=1")?.failureStatus, 400)
        XCTAssertEqual(NodeExecEndpoint.target(path: "/exec/ns/pod/main", query: "command=true")?.failureStatus, 400)
        XCTAssertEqual(NodeExecEndpoint.target(path: "/exec/ns/pod", query: "command=true&output=1")?.failureStatus, 404)
        XCTAssertNil(NodeExecEndpoint.target(path: "/containerLogs/ns/pod/main", query: nil))
    }

    func testPortForwardPortsRepeatedOrCommaSeparated() throws {
        let target = try XCTUnwrap(NodeExecEndpoint.portForward(path: "/portForward/ns/web", query: "port=8080,9090&port=7")).get()
        XCTAssertEqual(target.ports, [8080, 9090, 7])
        for bad in ["port=0", "port=65536", "port=x", "", "port="] {
            XCTAssertEqual(NodeExecEndpoint.portForward(path: "/portForward/ns/web", query: bad)?.failureStatus, 400, bad)
        }
    }

    func testAttachNeedsAStream() throws {
        XCTAssertEqual(NodeExecEndpoint.attach(path: "/attach/ns/pod/main", query: "input=0")?.failureStatus, 400)
        let target = try XCTUnwrap(NodeExecEndpoint.attach(path: "/attach/ns/pod/main", query: "output=1&error=1")).get()
        XCTAssertTrue(target.request.stdout && target.request.stderr && !target.request.stdin)
    }
}

private extension Result where Failure == ContainerLogError {
    var failureStatus: Int? {
        if case let .failure(error) = self { return error.status }
        return nil
    }
}
