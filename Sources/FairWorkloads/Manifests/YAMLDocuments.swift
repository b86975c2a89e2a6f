import FairKube
import Foundation
import Yams

/// YAML manifests as `JSONValue`s and back: what `kubectl apply -f` reads and what
/// `--dry-run` prints. Scalars keep YAML's types (`3` is a number, `"3"` a string).
public enum YAMLDocuments {
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every document of a (possibly multi-document) YAML text; empty documents are skipped.
    public static func parse(_ text: String, source: String = "manifest") throws -> [JSONValue] {
        do {
            return try YAMLValues.parse(text, source: source)
        } catch let error as YAMLValues.ParseError {
            throw ParseError(description: error.description)
        }
    }

    /// Documents as YAML, separated by `---`, keys sorted so the output is stable.
    public static func print(_ documents: [JSONValue]) throws -> String {
        try documents.map { try Yams.dump(object: any($0), sortKeys: true) }.joined(separator: "---\n")
    }

    private static func any(_ value: JSONValue) -> Any {
        switch value {
        case .null: return NSNull()
        case let .bool(value): return value
        case let .int(value): return Int(value)
        case let .double(value): return value
        case let .string(value): return value
        case let .array(values): return values.map(any)
        case let .object(members): return members.mapValues(any)
        }
    }
}
