/// A label selector in its string form (`app=web,tier!=db,env in (a,b),!legacy,track`), as list
/// and watch requests carry it, and as the `matchLabels`/`matchExpressions` object controllers use.
public struct LabelSelector: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    public var requirements: [Requirement]

    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) { self.requirements = requirements }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        var requirements: [Requirement] = []
        for clause in Self.splitClauses(text) {
            let part = clause.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            if let range = part.range(of: " notin ") ?? part.range(of: " in ") {
                let key = part[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let rest = part[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard rest.hasPrefix("("), rest.hasSuffix(")") else {
                    throw ParseError(description: "invalid label selector \"\(text)\": expected a (list) after in/notin")
                }
                let values = Set(rest.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                let isNotIn = part[range].contains("notin")
                requirements.append(isNotIn ? .notIn(key, values) : .in(key, values))
            } else if let range = part.range(of: "!=") {
                requirements.append(.notEquals(part[..<range.lowerBound].trimmingCharacters(in: .whitespaces),
                                               part[range.upperBound...].trimmingCharacters(in: .whitespaces)))
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                requirements.append(.equals(part[..<range.lowerBound].trimmingCharacters(in: .whitespaces),
                                            part[range.upperBound...].trimmingCharacters(in: .whitespaces)))
            } else if part.hasPrefix("!") {
                requirements.append(.notExists(part.dropFirst().trimmingCharacters(in: .whitespaces)))
            } else {
                guard !part.contains(" ") else { throw ParseError(description: "invalid label selector \"\(text)\"") }
                requirements.append(.exists(part))
            }
        }
        self.requirements = requirements
    }

    /// Splits on commas outside parentheses.
    private static func splitClauses(_ text: String) -> [String] {
        var clauses: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                clauses.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        clauses.append(current)
        return clauses
    }

    /// From a `{matchLabels, matchExpressions}` object (Deployment, ReplicaSet, Job selectors).
    public init(object: JSONValue) {
        var requirements: [Requirement] = []
        for (key, value) in (object["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            requirements.append(.equals(key, value.stringValue ?? ""))
        }
        for expression in object["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = Set((expression["values"]?.arrayValue ?? []).compactMap(\.stringValue))
            switch expression["operator"]?.stringValue {
            case "In": requirements.append(.in(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.notExists(key))
            default: continue
            }
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case let .equals(key, value): return labels[key] == value
            case let .notEquals(key, value): return labels[key] != value
            case let .in(key, values): return labels[key].map(values.contains) ?? false
            case let .notIn(key, values): return labels[key].map { !values.contains($0) } ?? true
            case let .exists(key): return labels[key] != nil
            case let .notExists(key): return labels[key] == nil
            }
        }
    }

    public var isEmpty: Bool { requirements.isEmpty }
}

/// A field selector (`metadata.name=x,status.phase!=Running,spec.nodeName=`): equality tests on
/// dotted paths of the object.
public struct FieldSelector: Sendable, Equatable {
    public var requirements: [(path: String, value: String, equal: Bool)] {
        didSet { keys = Self.keys(of: requirements) }
    }
    /// Each requirement's path split once: a watch tests every event of its kind.
    private var keys: [[String]] = []

    private static func keys(of requirements: [(path: String, value: String, equal: Bool)]) -> [[String]] {
        requirements.map { $0.path.split(separator: ".").map(String.init) }
    }

    public static func == (lhs: FieldSelector, rhs: FieldSelector) -> Bool {
        lhs.requirements.elementsEqual(rhs.requirements) { $0.path == $1.path && $0.value == $1.value && $0.equal == $1.equal }
    }

    public init(parsing text: String) throws {
        requirements = []
        for clause in text.split(separator: ",") {
            let part = String(clause)
            if let range = part.range(of: "!=") {
                requirements.append((String(part[..<range.lowerBound]), String(part[range.upperBound...]), false))
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                requirements.append((String(part[..<range.lowerBound]), String(part[range.upperBound...]), true))
            } else {
                throw LabelSelector.ParseError(description: "invalid field selector \"\(text)\": expected field=value")
            }
        }
        keys = Self.keys(of: requirements)
    }

    public func matches(_ object: JSONValue) -> Bool {
        for (requirement, keys) in zip(requirements, keys) {
            let equal: Bool
            switch object.value(at: keys) {
            case let .string(value)?: equal = value == requirement.value
            case let .int(value)?: equal = String(value) == requirement.value
            case let .bool(value)?: equal = String(value) == requirement.value
            default: equal = requirement.value.isEmpty
            }
            if equal != requirement.equal { return false }
        }
        return true
    }
}

import Foundation
