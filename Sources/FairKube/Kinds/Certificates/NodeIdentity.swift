/// How Kubernetes names a node as a user: `system:node:NAME` in the group `system:nodes`. The
/// node's client certificate carries it, the Node authorizer reads it, the approver checks it.
public enum NodeIdentity {
    public static let group = "system:nodes"
    public static let userPrefix = "system:node:"

    public static func userName(of node: String) -> String { userPrefix + node }

    /// The node a user (name and groups) is, or nil for any other user.
    public static func nodeName(user: String, groups: [String]) -> String? {
        guard groups.contains(group), user.hasPrefix(userPrefix) else { return nil }
        let name = String(user.dropFirst(userPrefix.count))
        return name.isEmpty ? nil : name
    }
}
