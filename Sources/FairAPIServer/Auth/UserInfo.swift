import FairKube

/// Who a request comes from, as an authenticator established it: kube's `user.Info`. RBAC
/// bindings name users, groups and service accounts by these strings.
public struct UserInfo: Sendable, Equatable {
    public var name: String
    public var uid: String
    public var groups: [String]
    /// Attributes beyond name and groups (the pod a service-account token is bound to).
    public var extra: [String: [String]]

    public init(name: String, uid: String = "", groups: [String], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// Members may do anything, without RBAC being asked (kube's superuser group).
    public static let mastersGroup = "system:masters"
    public static let authenticatedGroup = "system:authenticated"
    public static let unauthenticatedGroup = "system:unauthenticated"

    /// The holder of the server's token: the cluster's administrator.
    public static let admin = UserInfo(name: "fair-admin", groups: [mastersGroup, authenticatedGroup])

    public var isSuperuser: Bool { groups.contains(Self.mastersGroup) }

    /// The user name kube gives a service account: `system:serviceaccount:NS:NAME`.
    public static func serviceAccountName(namespace: String, name: String) -> String {
        "system:serviceaccount:\(namespace):\(name)"
    }

    /// The namespace of a service account's user name; nil for any other user.
    static func serviceAccountNamespace(_ userName: String) -> String? {
        let parts = userName.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount", !parts[2].isEmpty else { return nil }
        return String(parts[2])
    }

    /// The groups every service account's token carries.
    public static func serviceAccountGroups(namespace: String) -> [String] {
        ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", authenticatedGroup]
    }

    /// `userInfo` of a review's status, as kube-apiserver writes it.
    var json: JSONValue {
        var object: [String: JSONValue] = ["username": .string(name), "groups": .array(groups.map { .string($0) })]
        if !uid.isEmpty { object["uid"] = .string(uid) }
        if !extra.isEmpty {
            object["extra"] = .object(extra.mapValues { .array($0.map { .string($0) }) })
        }
        return .object(object)
    }
}
