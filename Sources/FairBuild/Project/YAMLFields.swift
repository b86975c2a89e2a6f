import Yams

/// Reads typed values out of a composed YAML tree, so every error can say which field, on which
/// line, and what was expected. Keys that are not in the schema are reported, never ignored.
struct YAMLFields {
    let file: String
    let node: Node
    let path: String

    init(file: String, node: Node, path: String = "") throws {
        guard case .mapping = node else {
            throw BuildError.config(file: file, line: node.mark?.line, field: path, message: "expected a mapping of keys to values")
        }
        self.file = file
        self.node = node
        self.path = path
    }

    private func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ value: Node?, _ message: String) -> BuildError {
        .config(file: file, line: (value ?? node).mark?.line, field: fieldPath(key), message: message)
    }

    /// Rejects keys outside `allowed`, suggesting the closest known key for a typo.
    func rejectUnknownKeys(_ allowed: [String]) throws {
        guard let mapping = node.mapping else { return }
        for (key, _) in mapping {
            let name = key.string ?? "\(key)"
            if !allowed.contains(name) {
                var message = "unknown key \"\(fieldPath(name))\""
                if let guess = closest(name, in: allowed) { message += " (did you mean \"\(guess)\"?)" }
                else { message += "; known keys: \(allowed.joined(separator: ", "))" }
                throw BuildError.config(file: file, line: key.mark?.line, field: "", message: message)
            }
        }
    }

    func value(_ key: String) -> Node? {
        guard let value = node.mapping?[key] else { return nil }
        if case let .scalar(scalar) = value, scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            return nil
        }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case let .scalar(scalar) = value else { throw error(key, value, "expected a single value") }
        return scalar.string
    }

    func int(_ key: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let text = try string(key) else { return nil }
        guard let number = Int(text) else { throw error(key, value(key), "expected a whole number, got \"\(text)\"") }
        if let range, !range.contains(number) {
            throw error(key, value(key), "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    func stringList(_ key: String) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard case let .sequence(sequence) = value else {
            throw error(key, value, "expected a list, e.g. [\"--epochs\", \"3\"]")
        }
        return try sequence.enumerated().map { index, item in
            guard case let .scalar(scalar) = item else {
                throw BuildError.config(file: file, line: item.mark?.line, field: "\(fieldPath(key))[\(index)]", message: "expected a single value")
            }
            return scalar.string
        }
    }

    /// A mapping of string to string, kept in file order (environment order matters to a reader).
    func stringMap(_ key: String) throws -> [(String, String)]? {
        guard let value = value(key) else { return nil }
        guard let mapping = value.mapping else { throw error(key, value, "expected a mapping, e.g. KEY: value") }
        return try mapping.map { entry in
            guard case let .scalar(keyScalar) = entry.key, case let .scalar(valueScalar) = entry.value else {
                throw BuildError.config(file: file, line: entry.key.mark?.line, field: fieldPath(key), message: "expected KEY: value pairs of single values")
            }
            return (keyScalar.string, valueScalar.string)
        }
    }

    func section(_ key: String) throws -> YAMLFields? {
        guard let value = value(key) else { return nil }
        return try YAMLFields(file: file, node: value, path: fieldPath(key))
    }
}

private func closest(_ word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}

private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
