import FairKube

/// The part of kube's NodeRestriction admission that needs a request's body: a node registers
/// only its own Node, and asks tokens only for pods bound to it (so a node cannot mint a token
/// for an account whose pods run elsewhere).
enum NodeRestriction {
    static func admitCreate(_ object: JSONValue, _ definition: KindDefinition, user: UserInfo) throws {
        guard let node = NodeAuthorizer.nodeName(of: user), definition == .node else { return }
        let name = object.name ?? ""
        guard name == node else {
            throw APIError(code: 403, reason: "Forbidden",
                           message: "nodes \"\(name)\" is forbidden: node \"\(node)\" is not allowed to modify node \"\(name)\"")
        }
    }

    static func admitTokenRequest(boundTo kind: String?, nodeOfPod: String?, user: UserInfo) throws {
        guard let node = NodeAuthorizer.nodeName(of: user) else { return }
        guard kind == "Pod" else {
            throw APIError(code: 403, reason: "Forbidden", message: "node requested token not bound to a pod")
        }
        guard nodeOfPod == node else {
            throw APIError(code: 403, reason: "Forbidden", message: "node requested token bound to a pod scheduled on a different node")
        }
    }
}
