import FairHTTPServer
import FairKube
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import NIOCore
import WSCore

/// Finds the running container an exec goes to: its runtime id, and the runtime that runs it.
public typealias ContainerExecLocator = @Sendable (_ namespace: String, _ pod: String, _ container: String) throws -> (id: String, runtime: ContainerExecuting)
/// Finds a running pod's address and uid, for port-forward.
public typealias PodAddressLocator = @Sendable (_ namespace: String, _ pod: String) throws -> (address: String, uid: String)

/// kubelet's `/exec/{namespace}/{pod}/{container}`, with kubelet's parameter names (`command`
/// once per argument, `input`, `output`, `error`, `tty`), served only over an upgraded
/// connection and only to the control plane (the API server relays users' execs here after
/// checking them).
struct NodeExecEndpoint: Sendable {
    let locate: ContainerExecLocator
    let locatePod: PodAddressLocator?
    /// The current instance's log, which attach follows.
    let locateLog: ContainerLogLocator?

    /// A request for an exec, read from its path and query; nil when the path is not an exec's.
    struct Target {
        var namespace: String
        var pod: String
        var container: String
        var request: ExecRequest
    }

    static func target(path: String, query: String?) -> Result<Target, ContainerLogError>? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
        guard segments.first == "exec" else { return nil }
        guard segments.count == 4 else { return .failure(.notFound("not found: exec is at /exec/{namespace}/{pod}/{container}")) }
        let form = FormQuery(query)
        let request = ExecRequest(command: form.all("command"), stdin: form.flag("input"), stdout: form.flag("output"),
                                  stderr: form.flag("error"), tty: form.flag("tty"))
        if request.command.isEmpty { return .failure(.badRequest("you must specify at least 1 command")) }
        if !(request.stdin || request.stdout || request.stderr) {
            return .failure(.badRequest("you must specify at least one of stdin, stdout, stderr"))
        }
        return .success(Target(namespace: segments[1], pod: segments[2], container: segments[3], request: request))
    }

    /// Why a plain request (no upgrade, or one that was declined) for an exec path is refused.
    func refusal(path: String, query: String?, isControlPlane: Bool) -> ContainerLogError? {
        if let forward = Self.portForward(path: path, query: query) {
            guard isControlPlane else { return ContainerLogError(status: 403, message: "only the API server forwards ports here") }
            switch forward {
            case let .failure(error): return error
            case let .success(target):
                do { _ = try locatePod?(target.namespace, target.pod) } catch let error as ContainerLogError { return error } catch {
                    return ContainerLogError(status: 500, message: "\(error)")
                }
                return .badRequest("Upgrade request required")
            }
        }
        guard let target = Self.target(path: path, query: query) ?? Self.attach(path: path, query: query) else { return nil }
        guard isControlPlane else { return ContainerLogError(status: 403, message: "only the API server execs in containers here") }
        switch target {
        case let .failure(error): return error
        case let .success(target):
            do { _ = try locate(target.namespace, target.pod, target.container) } catch let error as ContainerLogError { return error } catch {
                return ContainerLogError(status: 500, message: "\(error)")
            }
            return .badRequest("Upgrade request required")
        }
    }

    /// kubelet's `/portForward/{namespace}/{pod}?port=P[,Q…]` (repeated or comma-separated).
    struct PortForwardTarget {
        var namespace: String
        var pod: String
        var ports: [UInt16]
    }

    /// kubectl's SPDY tunnel (`tunnelled`) names no ports: its streams carry them.
    static func portForward(path: String, query: String?, tunnelled: Bool = false) -> Result<PortForwardTarget, ContainerLogError>? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
        guard segments.first == "portForward" else { return nil }
        guard segments.count == 3 else { return .failure(.notFound("not found: port-forward is at /portForward/{namespace}/{pod}")) }
        var ports: [UInt16] = []
        for text in FormQuery(query).all("port").flatMap({ $0.split(separator: ",") }) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let port = UInt16(trimmed), port > 0 else { return .failure(.badRequest("invalid port \"\(trimmed)\": ports must be 1-65535")) }
            ports.append(port)
        }
        if ports.isEmpty && !tunnelled { return .failure(.badRequest("at least one port must be specified")) }
        return .success(PortForwardTarget(namespace: segments[1], pod: segments[2], ports: ports))
    }

    /// kubelet's `/attach/{namespace}/{pod}/{container}` with `output`, `error`, `input`, `tty`.
    static func attach(path: String, query: String?) -> Result<Target, ContainerLogError>? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
        guard segments.first == "attach" else { return nil }
        guard segments.count == 4 else { return .failure(.notFound("not found: attach is at /attach/{namespace}/{pod}/{container}")) }
        let form = FormQuery(query)
        let request = ExecRequest(command: [], stdin: form.flag("input"), stdout: form.flag("output"), stderr: form.flag("error"), tty: form.flag("tty"))
        if !(request.stdin || request.stdout || request.stderr) {
            return .failure(.badRequest("you must specify at least one of stdin, stdout, stderr"))
        }
        return .success(Target(namespace: segments[1], pod: segments[2], container: segments[3], request: request))
    }

    func decide(_ head: HTTPRequest, channel: any Channel) async -> ShouldUpgradeResult<WebSocketDataHandler<WebSocketUpgradableHTTP1Channel.Context>> {
        let path = head.path ?? "/"
        let query = path.firstIndex(of: "?").map { String(path[path.index(after: $0)...]) }
        let bare = path.firstIndex(of: "?").map { String(path[..<$0]) } ?? path
        if case let .success(target)? = Self.attach(path: bare, query: query) {
            guard await NodeClientIdentity.isControlPlane(channel),
                  (try? locate(target.namespace, target.pod, target.container)) != nil,
                  let source = try? locateLog?(target.namespace, target.pod, target.container, false),
                  let subprotocol = StreamSubprotocol.negotiate(offered: head.headerFields[values: .secWebSocketProtocol])
            else { return .dontUpgrade }
            var headers = HTTPFields()
            if let name = subprotocol.responseHeader { headers[.secWebSocketProtocol] = name }
            let session = AttachSession(source: source, stdout: target.request.stdout, stderr: target.request.stderr,
                                        tty: target.request.tty, subprotocol: subprotocol)
            return .upgrade(headers) { inbound, outbound, _ in await session.run(inbound: inbound, outbound: outbound) }
        }
        let forwarding = StreamSubprotocol.negotiatePortForward(offered: head.headerFields[values: .secWebSocketProtocol])
        if case let .success(forward)? = Self.portForward(path: bare, query: query, tunnelled: forwarding?.isTunnel ?? false) {
            guard await NodeClientIdentity.isControlPlane(channel),
                  let pod = try? locatePod?(forward.namespace, forward.pod),
                  let subprotocol = forwarding
            else { return .dontUpgrade }
            var headers = HTTPFields()
            if let name = subprotocol.responseHeader { headers[.secWebSocketProtocol] = name }
            if subprotocol.isTunnel {
                let session = SpdyPortForwardSession(podIP: pod.address, podName: forward.pod, podUID: pod.uid)
                return .upgrade(headers) { inbound, outbound, _ in await session.run(inbound: inbound, outbound: outbound) }
            }
            let session = PortForwardSession(podIP: pod.address, ports: forward.ports, podName: forward.pod, podUID: pod.uid)
            return .upgrade(headers) { inbound, outbound, _ in await session.run(inbound: inbound, outbound: outbound) }
        }
        guard await NodeClientIdentity.isControlPlane(channel),
              case let .success(target)? = Self.target(path: bare, query: query),
              let located = try? locate(target.namespace, target.pod, target.container),
              let subprotocol = StreamSubprotocol.negotiate(offered: head.headerFields[values: .secWebSocketProtocol])
        else { return .dontUpgrade }
        var headers = HTTPFields()
        if let name = subprotocol.responseHeader { headers[.secWebSocketProtocol] = name }
        return .upgrade(headers) { inbound, outbound, _ in
            let process: ExecProcess
            do {
                process = try located.runtime.exec(id: located.id, target.request)
            } catch {
                if let payload = RemoteCommandStatus.internalError("\(error)").payload(for: subprotocol) {
                    try await outbound.write(.binary(ByteBuffer(bytes: StreamChannel.frame(StreamChannel.error, payload))))
                }
                return
            }
            await ExecSession(process: process, request: target.request, subprotocol: subprotocol).run(inbound: inbound, outbound: outbound)
        }
    }
}
