import Foundation

/// One layer of fair.yaml's `layers:` between deps and code: files that change less often than
/// the code go into layers of their own, so that a code change rebuilds and sends only the code
/// layer (jib's layering by rate of change). A file goes into the first rule it matches; what no
/// rule takes stays in the code layer.
///
/// ```yaml
/// layers:
/// - name: data
///   paths: [data, "**/*.parquet"]   # .fairignore syntax, relative to the project
/// - name: assets
///   minSize: 1MiB                   # files this big or bigger, never .py or .ipynb
/// ```
/// Without `layers:` the plan is `assets` with `minSize: 1MiB`; `layers: []` keeps every file
/// in the code layer.
public struct LayerRule: Sendable, Equatable {
    public var name: String
    /// Patterns with .fairignore's syntax and meaning (a directory takes everything below it).
    public var paths: [String]?
    /// Only files at least this many bytes; such a rule never takes Python code or notebooks.
    public var minSize: Int64?

    public init(name: String, paths: [String]? = nil, minSize: Int64? = nil) {
        self.name = name
        self.paths = paths
        self.minSize = minSize
    }

    public static let defaultAssetSize: Int64 = 1 << 20
    /// The plan when fair.yaml has no `layers:`.
    public static let defaults = [LayerRule(name: "assets", minSize: defaultAssetSize)]
    /// Layer names the image already uses.
    static let reservedNames: Set<String> = ["base", "deps", "code"]
    static let codeSuffixes = [".py", ".ipynb"]

    /// `layers:` of fair.yaml, checked: every error names the entry and the field.
    static func parse(_ fields: YAMLFields) throws -> [LayerRule]? {
        guard let value = fields.value("layers") else { return nil }
        guard case let .sequence(sequence) = value else {
            throw fields.error("layers", value, "expected a list of layers, e.g. [{name: data, paths: [data]}]")
        }
        var rules: [LayerRule] = []
        for (index, item) in sequence.enumerated() {
            let entry = try YAMLFields(file: fields.file, node: item, path: "layers[\(index)]")
            try entry.rejectUnknownKeys(["name", "paths", "minSize"])
            guard let name = try entry.string("name"), !name.isEmpty else {
                throw entry.error("name", nil, "required: the layer's name, e.g. data")
            }
            guard name.range(of: "^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", options: .regularExpression) != nil else {
                throw entry.error("name", entry.value("name"), "\"\(name)\" is not a layer name: lower-case letters, digits and -, at most 32")
            }
            guard !reservedNames.contains(name) else {
                throw entry.error("name", entry.value("name"), "\"\(name)\" is the image's own layer; choose another name")
            }
            guard !rules.contains(where: { $0.name == name }) else {
                throw entry.error("name", entry.value("name"), "a second layer named \"\(name)\"")
            }
            let paths = try entry.stringList("paths")
            if let paths {
                guard !paths.isEmpty else { throw entry.error("paths", entry.value("paths"), "an empty list matches nothing; leave it out") }
                do {
                    _ = try IgnoreRules(contents: paths.joined(separator: "\n"))
                } catch let error as IgnoreRulesError {
                    throw entry.error("paths", entry.value("paths"), "\(error.reason): \(error.pattern)")
                }
            }
            let minSize = try entry.string("minSize").map { text -> Int64 in
                guard let bytes = ByteSize.parse(text) else {
                    throw entry.error("minSize", entry.value("minSize"), "\"\(text)\" is not a size; e.g. 1MiB, 512KiB or 1048576")
                }
                return bytes
            }
            guard paths != nil || minSize != nil else {
                throw entry.error("name", nil, "layer \"\(name)\" needs paths, minSize or both to say which files it takes")
            }
            rules.append(LayerRule(name: name, paths: paths, minSize: minSize))
        }
        return rules
    }
}

/// Sizes as people write them in fair.yaml: bytes, or with k/M/G (powers of 1000) or
/// Ki/Mi/Gi (powers of 1024), an optional B.
enum ByteSize {
    static func parse(_ text: String) -> Int64? {
        var digits = text.trimmingCharacters(in: .whitespaces)
        if digits.hasSuffix("B") { digits.removeLast() }
        let units: [(String, Int64)] = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("k", 1000), ("K", 1000), ("M", 1_000_000), ("G", 1_000_000_000)]
        var factor: Int64 = 1
        for (suffix, value) in units where digits.hasSuffix(suffix) {
            digits.removeLast(suffix.count)
            factor = value
            break
        }
        guard let number = Int64(digits.trimmingCharacters(in: .whitespaces)), number >= 0 else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }
}
