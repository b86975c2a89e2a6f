/// What a request needs or a token grants, in the Docker registry token scope grammar:
/// `repository:NAME:pull,push` (distribution's `auth.Access`, one resource and its actions).
public struct RegistryScope: Hashable, Sendable, CustomStringConvertible {
    public enum Action: String, Sendable, CaseIterable {
        case pull, push, delete
    }

    public var repository: String
    public var actions: Set<Action>

    public init(repository: String, actions: Set<Action>) {
        self.repository = repository
        self.actions = actions
    }

    /// `repository:NAME:push,pull`; nil for any other resource type or a malformed scope. Names
    /// hold `/` but never `:`, so the last colon separates the actions.
    public init?(parsing text: Substring) {
        let prefix = "repository:"
        guard text.hasPrefix(prefix), let colon = text.lastIndex(of: ":"), colon >= text.index(text.startIndex, offsetBy: prefix.count) else { return nil }
        let name = text[text.index(text.startIndex, offsetBy: prefix.count)..<colon]
        guard !name.isEmpty, Grammar.isRepositoryName(String(name)) else { return nil }
        repository = String(name)
        actions = Set(text[text.index(after: colon)...].split(separator: ",").compactMap { Action(rawValue: String($0)) })
    }

    public var description: String {
        "repository:\(repository):\(Action.allCases.filter(actions.contains).map(\.rawValue).joined(separator: ","))"
    }

    /// The scopes of a `scope` query or challenge value, which may list several separated by spaces.
    public static func parseList(_ text: String) -> [RegistryScope] {
        text.split(separator: " ").compactMap { RegistryScope(parsing: $0) }
    }
}
