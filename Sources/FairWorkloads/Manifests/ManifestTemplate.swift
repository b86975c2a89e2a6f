import FairKube
import Foundation
import Mustache

/// A Kubernetes manifest written as a Mustache template (`Templates/job.yaml`), rendered with
/// swift-mustache and read back as typed objects. Values are inserted as JSON literals (quoted
/// strings, numbers), which YAML reads as they are, so no value can change the document's shape.
public struct ManifestTemplate {
    public let source: String
    private let template: MustacheTemplate

    public struct RenderError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(text: String, source: String) throws {
        self.source = source
        do {
            template = try MustacheTemplate(string: text)
        } catch {
            throw RenderError(description: "\(source): not a valid template: \(error)")
        }
    }

    public init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RenderError(description: "cannot read the template \(path): \(error.localizedDescription)")
        }
        try self.init(text: text, source: path)
    }

    /// A project's own template (`path`, relative to the project), else fair's built-in `name`.
    public static func projectOrBuiltIn(_ path: String?, builtIn name: String, projectDirectory: String) throws -> ManifestTemplate {
        if let path {
            return try ManifestTemplate(path: path.hasPrefix("/") ? path : "\(projectDirectory)/\(path)")
        }
        guard let text = BuiltInTemplates.files[name] else {
            throw RenderError(description: "fair has no built-in template \(name)")
        }
        return try ManifestTemplate(text: text, source: "Templates/\(name)")
    }

    /// Renders with `values` (strings, numbers, booleans, lists of dictionaries for sections) and
    /// parses the result into its documents.
    public func render(_ values: [String: Any]) throws -> [JSONValue] {
        let text = template.render(Self.literals(values))
        return try YAMLDocuments.parse(text, source: "\(source) (rendered)")
    }

    /// Scalars become JSON literals; sections (arrays, dictionaries) keep their structure.
    private static func literals(_ value: Any) -> Any {
        switch value {
        case let string as String: return String(decoding: JSONCoding.encode(.string(string)), as: UTF8.self)
        case let bool as Bool: return bool  // sections test it; it renders as true or false
        case let int as Int: return String(int)
        case let int as Int64: return String(int)
        case let double as Double: return String(decoding: JSONCoding.encode(.double(double)), as: UTF8.self)
        case let array as [Any]: return array.map(literals)
        case let dictionary as [String: Any]: return dictionary.mapValues(literals)
        default: return value
        }
    }
}
