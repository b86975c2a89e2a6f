import Foundation
import Yams

/// YAML read as `JSONValue`s, keeping YAML's types (`3` is a number, `"3"` a string): what a
/// manifest file holds, and what an apply body may be.
public enum YAMLValues {
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every document of a (possibly multi-document) YAML text; empty documents are skipped.
    public static func parse(_ text: String, source: String = "manifest") throws -> [JSONValue] {
        do {
            // Parser.nextRoot throws on a malformed document (compose_all's sequence stops quietly).
            let parser = try Parser(yaml: text)
            var documents: [JSONValue] = []
            // Every node takes at least one byte of text, except an alias, which the reader
            // resolves to the node it names: a budget of one node per byte stops a document
            // of aliases to aliases ("billion laughs") from being expanded.
            var budget = text.utf8.count + 16
            while let node = try parser.nextRoot() {
                let value = try json(node, source: source, budget: &budget)
                if !value.isNull { documents.append(value) }
            }
            return documents
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(description: "\(source): not valid YAML: \(error)")
        }
    }

    private static func json(_ node: Yams.Node, source: String, budget: inout Int) throws -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw ParseError(description: "\(source): the YAML expands to more values than its text holds (aliases of aliases)")
        }
        switch node {
        case let .scalar(scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map { .double($0) } ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case let .mapping(mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw ParseError(description: "\(source):\(key.mark?.line ?? 0): a mapping key must be a string")
                }
                members[name] = try json(value, source: source, budget: &budget)
            }
            return .object(members)
        case let .sequence(sequence):
            var items: [JSONValue] = []
            for item in sequence { items.append(try json(item, source: source, budget: &budget)) }
            return .array(items)
        case let .alias(alias):
            throw ParseError(description: "\(source):\(alias.mark?.line ?? 0): YAML aliases are not supported in manifests")
        }
    }
}
