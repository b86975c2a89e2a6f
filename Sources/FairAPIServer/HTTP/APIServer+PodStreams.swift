import FairHTTPServer
import FairKube
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import WSCore

/// `pods/NAME/exec`, `attach` and `portforward`: streams into a pod, which exist only as an
/// upgraded connection. Every request is decided and checked here as kube-apiserver decides and
/// checks it before proxying. A WebSocket upgrade that passes is relayed to the pod's node
/// (`PodStreamRelay`); one that does not is declined, and the same request then reaches
/// `podStream(…)` as plain HTTP and gets its `Status` (kubectl retries a refused WebSocket GET
/// as a SPDY POST, which lands there too, and shows that answer).
extension APIServer {
    static let podStreamSubresources: Set<String> = ["exec", "attach", "portforward"]

    /// A stream request that passed every check, and where it goes.
    struct PodStreamPlan {
        let subresource: String
        let namespace: String
        let pod: String
        let node: NodeEndpoint
        /// The node's path and query (kubelet's names: `input`, `output`, `error`, `tty`).
        let nodePath: [String]
        let nodeQuery: [URLQueryItem]
    }

    func podStreamPlan(_ path: ResourcePath, method: HTTPRequest.Method, query: Query, user: UserInfo,
                       tunnelled: Bool = false) throws -> PodStreamPlan {
        guard let name = path.name, let subresource = path.subresource else { throw APIError.unknownPath }
        guard method == .get || method == .post else {
            throw APIError.methodNotAllowed("\(method) is not supported on pods/\(subresource)")
        }
        let namespace = path.namespace ?? ""
        // A stream runs code in the pod or reaches into it: `create`, whatever the method, as
        // Kubernetes 1.35 asks of WebSocket GETs too (the method's own verb was checked already).
        let attributes = RequestAttributes(user: user, verb: "create", resource: "pods", subresource: subresource,
                                           namespace: namespace, name: name)
        guard authorizer.authorize(attributes).allowed else { throw APIError.forbidden(attributes) }
        let pods = KindDefinition.pod
        guard let stored = store.get(pods.storageKey, namespace: namespace, name: name) else {
            throw APIError.notFound(pods, name)
        }
        if subresource == "portforward" { return try portForwardPlan(stored.object, namespace: namespace, name: name, query: query, tunnelled: tunnelled) }
        let target: PodStreamTarget
        let command = subresource == "exec" ? query.form.all("command") : []
        do {
            target = try PodStreamTarget(pod: Pod(json: stored.object), podName: name, requestedContainer: query["container"])
            if subresource == "exec", command.isEmpty { throw PodStreamError.commandRequired }
            if !(query.flag("stdin") || query.flag("stdout") || query.flag("stderr")) { throw PodStreamError.noStreams }
        } catch let error as PodStreamError {
            throw APIError.badRequest(error.description)
        }
        if let phase = stored.object.value(at: "status.phase")?.stringValue, phase == "Succeeded" || phase == "Failed" {
            throw APIError.badRequest("cannot \(subresource == "exec" ? "exec into" : "attach to") a container in a completed pod; current phase is \(phase)")
        }
        let node = try NodeEndpoint.resolve(store: store, nodeName: target.nodeName, credential: logs.credential, serving: subresource)
        var nodeQuery = command.map { URLQueryItem(name: "command", value: $0) }
        for (flag, kubelet) in [("stdin", "input"), ("stdout", "output"), ("stderr", "error"), ("tty", "tty")] where query.flag(flag) {
            nodeQuery.append(URLQueryItem(name: kubelet, value: "1"))
        }
        return PodStreamPlan(subresource: subresource, namespace: namespace, pod: name, node: node,
                             nodePath: [subresource, namespace, name, target.container], nodeQuery: nodeQuery)
    }

    /// Port-forward over WebSocket (the Python client, kr8s): the ports come in the query
    /// (`ports`, repeated or comma-separated), and the node dials the pod's address.
    /// kubectl's SPDY tunnel (`tunnelled`) names no ports: each stream inside it carries its own.
    private func portForwardPlan(_ pod: JSONValue, namespace: String, name: String, query: Query, tunnelled: Bool) throws -> PodStreamPlan {
        var ports: [String] = []
        for text in query.form.all("ports").flatMap({ $0.split(separator: ",") }) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let port = Int(trimmed), (1...65535).contains(port) else {
                throw APIError.badRequest("invalid port \"\(trimmed)\": ports must be 1-65535")
            }
            ports.append(String(port))
        }
        guard !ports.isEmpty || tunnelled else { throw APIError.badRequest("at least one port must be specified (ports=PORT[,PORT…])") }
        guard let nodeName = pod.value(at: "spec.nodeName")?.stringValue, !nodeName.isEmpty else {
            throw APIError.badRequest("pod \(name) does not have a host assigned")
        }
        let node = try NodeEndpoint.resolve(store: store, nodeName: nodeName, credential: logs.credential, serving: "port-forward")
        return PodStreamPlan(subresource: "portforward", namespace: namespace, pod: name, node: node,
                             nodePath: ["portForward", namespace, name],
                             nodeQuery: ports.isEmpty ? [] : [URLQueryItem(name: "port", value: ports.joined(separator: ","))])
    }

    /// The same request as plain HTTP: its refusal, as a `Status`.
    func podStream(_ path: ResourcePath, method: HTTPRequest.Method, headers: HTTPFields, query: Query, user: UserInfo) throws -> Response {
        let tunnelled = StreamSubprotocol.negotiatePortForward(offered: headers[values: .secWebSocketProtocol])?.isTunnel ?? false
        _ = try podStreamPlan(path, method: method, query: query, user: user, tunnelled: tunnelled && path.subresource == "portforward")
        guard Self.asksForUpgrade(headers) else { throw APIError.badRequest("Upgrade request required") }
        if headers[.upgrade]?.lowercased() == "websocket" {
            let offered = headers[values: .secWebSocketProtocol]
            if path.subresource == "portforward", StreamSubprotocol.negotiatePortForward(offered: offered) == nil {
                throw APIError.badRequest("requested protocol(s) are not supported: \(offered); supports "
                    + "[\(StreamSubprotocol.v4.rawValue) \(StreamSubprotocol.spdyPortForward.rawValue)]")
            }
            if path.subresource != "portforward", StreamSubprotocol.negotiate(offered: offered) == nil {
                let served = StreamSubprotocol.remoteCommand.compactMap(\.responseHeader)
                throw APIError.badRequest("requested protocol(s) are not supported: \(offered); supports \(served)")
            }
            throw APIError(code: 500, reason: "InternalError", message: "the WebSocket upgrade was declined; try again")
        }
        throw APIError.badRequest("\(headers[.upgrade] ?? "this upgrade") is not supported for pods/\(path.subresource ?? ""): fair server streams over WebSocket (kubectl 1.31+, or KUBECTL_REMOTE_COMMAND_WEBSOCKETS unset)")
    }

    /// The decision for a WebSocket upgrade on the API port: authenticated, authorized and
    /// checked as the plain request would be; anything short of a stream to relay is declined.
    public func podStreamUpgrade(_ head: HTTPRequest,
                                 clientCertificate: @Sendable () async -> (commonName: String, organizations: [String])?) async
        -> ShouldUpgradeResult<WebSocketDataHandler<WebSocketUpgradableHTTP1Channel.Context>> {
        guard head.method == .get, let target = head.path else { return .dontUpgrade }
        let question = target.firstIndex(of: "?")
        let path = Self.normalized(question.map { String(target[..<$0]) } ?? target)
        let query = Query(question.map { String(target[target.index(after: $0)...]) })
        guard let resource = try? ResourcePath.parse(path), resource.definition == .pod,
              let subresource = resource.subresource, Self.podStreamSubresources.contains(subresource),
              let user = await authenticator.identify(head.headerFields, certificate: clientCertificate),
              authorizer.authorize(RequestAttributes(user: user, method: head.method, resource: resource, watch: false,
                                                     fieldSelector: nil, urlPath: path)).allowed,
              let subprotocol = subresource == "portforward"
                ? StreamSubprotocol.negotiatePortForward(offered: head.headerFields[values: .secWebSocketProtocol])
                : StreamSubprotocol.negotiate(offered: head.headerFields[values: .secWebSocketProtocol]),
              let plan = try? podStreamPlan(resource, method: head.method, query: query, user: user, tunnelled: subprotocol.isTunnel),
              let credential = logs.credential,
              let target = plan.node.target(path: plan.nodePath, query: plan.nodeQuery)
        else { return .dontUpgrade }
        var headers = HTTPFields()
        if let name = subprotocol.responseHeader { headers[.secWebSocketProtocol] = name }
        let relay = PodStreamRelay(endpoint: plan.node, credential: credential, target: target, subprotocol: subprotocol)
        return .upgrade(headers) { inbound, outbound, context in
            await relay.run(inbound: inbound, outbound: outbound, logger: context.logger)
        }
    }

    /// `Connection: Upgrade` with an `Upgrade` header (WebSocket, or SPDY/3.1 from kubectl's fallback).
    static func asksForUpgrade(_ headers: HTTPFields) -> Bool {
        let connection = headers[values: .connection].joined(separator: ",").lowercased()
        return connection.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "upgrade" }
            && headers[.upgrade] != nil
    }
}
