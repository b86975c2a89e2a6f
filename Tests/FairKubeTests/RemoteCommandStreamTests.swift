import FairKube
import XCTest

/// The remote-command stream's wire format (exec, attach): subprotocol choice, channel framing,
/// the Status on channel 3 byte for byte as the kubelet writes it, and the resize stream.
final class RemoteCommandStreamTests: XCTestCase {
    func testSubprotocolIsTheFirstOfferedThatIsServed() {
        XCTAssertEqual(StreamSubprotocol.negotiate(offered: ["v5.channel.k8s.io"]), .v5)
        XCTAssertEqual(StreamSubprotocol.negotiate(offered: ["v4.base64.channel.k8s.io, v4.channel.k8s.io,v5.channel.k8s.io"]), .v4)
        XCTAssertEqual(StreamSubprotocol.negotiate(offered: ["channel.k8s.io"]), .v1)
        XCTAssertEqual(StreamSubprotocol.negotiate(offered: []), .unnamed)
        XCTAssertNil(StreamSubprotocol.unnamed.responseHeader, "no subprotocol offered: none answered")
        XCTAssertNil(StreamSubprotocol.negotiate(offered: ["SPDY/3.1+portforward.k8s.io"]))
        XCTAssertNil(StreamSubprotocol.negotiate(offered: ["v2.channel.k8s.io"]), "v2 and v3 are SPDY names only")
    }

    func testInboundMessagesByChannel() {
        XCTAssertEqual(InboundStreamMessage(message: [0, 0x61, 0x0a], subprotocol: .v4), .stdin([0x61, 0x0a]))
        XCTAssertEqual(InboundStreamMessage(message: [4, 0x7b], subprotocol: .v5), .resize([0x7b]))
        XCTAssertEqual(InboundStreamMessage(message: [255, 0], subprotocol: .v5), .closeStream(0))
        XCTAssertEqual(InboundStreamMessage(message: [255, 0], subprotocol: .v4), .ignored, "CLOSE is v5's")
        XCTAssertEqual(InboundStreamMessage(message: [255, 0, 1], subprotocol: .v5), .ignored, "a CLOSE is exactly 2 bytes")
        XCTAssertEqual(InboundStreamMessage(message: [], subprotocol: .v5), .ignored)
        XCTAssertEqual(InboundStreamMessage(message: [1, 0x61], subprotocol: .v5), .ignored, "stdout is the server's")
        XCTAssertEqual(InboundStreamMessage(message: [9], subprotocol: .v5), .ignored)
        XCTAssertEqual(StreamChannel.frame(StreamChannel.stdout, [0x68, 0x69]), [1, 0x68, 0x69])
    }

    func testStatusOnChannelThreeAsTheKubeletEncodesIt() throws {
        func text(_ status: RemoteCommandStatus, _ subprotocol: StreamSubprotocol = .v5) -> String? {
            status.payload(for: subprotocol).map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(text(.success), #"{"metadata":{},"status":"Success"}"#)
        XCTAssertEqual(text(.exit(code: 3, command: ["sh", "-c", "exit 3"]), .v4),
                       #"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command 'sh -c exit 3' exited with 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#)
        XCTAssertEqual(text(.internalError("container \"c\" is not running")),
                       #"{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: container \"c\" is not running","reason":"InternalError","details":{"causes":[{"message":"error executing command in container: container \"c\" is not running"}]},"code":500}"#)
        XCTAssertNil(text(.success, .v1), "before v4 success writes nothing")
        XCTAssertEqual(text(.internalError("x"), .unnamed), "Internal error occurred: error executing command in container: x")
        XCTAssertEqual(RemoteCommandStatus.exit(code: 0, command: ["true"]), .success)
        guard case let .nonZeroExit(code, _) = RemoteCommandStatus.exit(code: 300, command: ["x"]) else { return XCTFail() }
        XCTAssertEqual(code, 255, "kubectl reads the code as a uint8")
    }

    func testResizeStreamSplitsAndJoinsObjects() {
        var stream = TerminalSizeStream()
        XCTAssertEqual(stream.feed(Array(#"{"Width":80,"Hei"#.utf8)), [])
        XCTAssertEqual(stream.feed(Array("ght\":24}\n{\"Width\":100,\"Height\":30}".utf8)),
                       [TerminalSize(width: 80, height: 24), TerminalSize(width: 100, height: 30)])
        XCTAssertEqual(stream.feed(Array(#"{"Width":-1,"Height":3}{"Width":1,"Height":2}"#.utf8)), [TerminalSize(width: 1, height: 2)])
        XCTAssertEqual(stream.feed([UInt8](repeating: UInt8(ascii: "{"), count: 10_000) + Array(#"}{"Width":5,"Height":6}"#.utf8)),
                       [TerminalSize(width: 5, height: 6)], "an unclosed object is dropped once past the bound")
    }

    func testStreamTargetValidatesLikeKube() throws {
        func pod(_ containers: [String], node: String? = "n1") -> Pod {
            var spec: JSONValue = ["containers": .array(containers.map { ["name": .string($0)] })]
            if let node { spec["nodeName"] = .string(node) }
            return Pod(json: ["spec": spec])
        }
        XCTAssertEqual(try PodStreamTarget(pod: pod(["a"]), podName: "p", requestedContainer: nil).container, "a",
                       "one container is the default")
        XCTAssertEqual(try PodStreamTarget(pod: pod(["a", "b"]), podName: "p", requestedContainer: "b").container, "b")
        XCTAssertThrowsError(try PodStreamTarget(pod: pod(["a", "b"]), podName: "p", requestedContainer: nil)) { error in
            XCTAssertEqual("\(error)", "a container name must be specified for pod p, choose one of: [a b]")
        }
        XCTAssertThrowsError(try PodStreamTarget(pod: pod(["a"]), podName: "p", requestedContainer: "z")) { error in
            XCTAssertEqual("\(error)", "container z is not valid for pod p")
        }
        XCTAssertThrowsError(try PodStreamTarget(pod: pod(["a"], node: nil), podName: "p", requestedContainer: nil)) { error in
            XCTAssertEqual("\(error)", "pod p does not have a host assigned")
        }
    }
}

/// Queries as Go's url.ParseQuery reads them: exec's `command` once per argument, in order.
final class FormQueryTests: XCTestCase {
    func testRepeatedKeysKeepEveryValueInOrder() {
        let query = FormQuery("command=sh&command=-c&command=echo+a%20b%26c&stdout=true&command=%2B")
        XCTAssertEqual(query.all("command"), ["sh", "-c", "echo a b&c", "+"])
        XCTAssertEqual(query["command"], "sh", "Get reads the first")
        XCTAssertTrue(query.flag("stdout"))
        XCTAssertFalse(query.flag("stdin"))
    }

    func testHostileQueriesDoNotTrap() {
        for text in ["", "=", "&&", "%zz=%", "a", "=x&y=", "command=%E0%A4%A", String(repeating: "&", count: 1000)] {
            _ = FormQuery(text).all("command")
        }
        XCTAssertEqual(FormQuery("command=%zz").all("command"), ["%zz"], "a malformed escape is kept as written")
        XCTAssertEqual(FormQuery("command").all("command"), [""])
    }

    func testPortForwardSpeaksV4NothingOrKubectlsTunnel() {
        XCTAssertEqual(StreamSubprotocol.negotiatePortForward(offered: []), .unnamed, "kr8s offers none")
        XCTAssertEqual(StreamSubprotocol.negotiatePortForward(offered: ["v5.channel.k8s.io,v4.channel.k8s.io"]), .v4,
                       "the Python client from v36 offers v5 first; port-forward has no v5")
        XCTAssertEqual(StreamSubprotocol.negotiatePortForward(offered: ["SPDY/3.1+portforward.k8s.io"]), .spdyPortForward,
                       "kubectl 1.31+ tunnels SPDY")
        XCTAssertNil(StreamSubprotocol.negotiatePortForward(offered: ["channel.k8s.io"]), "exec's framing only")
        XCTAssertNil(StreamSubprotocol.negotiate(offered: ["SPDY/3.1+portforward.k8s.io"]), "exec and attach never tunnel")
        XCTAssertNil(RemoteCommandStatus.internalError("x").payload(for: .spdyPortForward), "nothing but SPDY goes into the tunnel")
    }
}
