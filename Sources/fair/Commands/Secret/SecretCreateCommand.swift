import ArgumentParser
import FairKube
import Foundation

/// `kubectl create secret generic` in fair's words, against any cluster: a plain Opaque Secret
/// created through the API. Values go from the flags or file to the API server and nowhere else:
/// never to the terminal, a log or an error message.
struct SecretCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a Secret from literal values and env files.")

    @Argument(help: "The Secret's name.")
    var name: String

    @Option(name: .customLong("from-literal"), help: "KEY=VALUE (repeatable).")
    var literals: [String] = []

    @Option(name: .customLong("from-env-file"), help: "A file of KEY=VALUE lines, as docker's --env-file (repeatable).")
    var envFiles: [String] = []

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        guard Self.isName(name) else {
            throw ValidationError("\(name) is not a valid Secret name (lower-case letters, digits, '-' and '.')")
        }
        if literals.isEmpty && envFiles.isEmpty {
            throw ValidationError("give at least one --from-literal KEY=VALUE or --from-env-file FILE")
        }
    }

    func run() throws {
        try reportingFailures {
            var data: [String: String] = [:]
            var origin: [String: String] = [:]
            func add(_ key: String, _ value: String, from source: String) throws {
                if let problem = ConfigDataRules.keyProblem(key) {
                    throw SecretInputError(description: "\(source): key \"\(key)\" is not valid: \(problem)")
                }
                if let earlier = origin[key] {
                    throw SecretInputError(description: "\(source): key \"\(key)\" is given twice (also by \(earlier))")
                }
                data[key] = value
                origin[key] = source
            }
            for literal in literals {
                guard let equals = literal.firstIndex(of: "=") else {
                    throw SecretInputError(description: "--from-literal \(literal.prefix(while: { $0 != "=" })): expected KEY=VALUE")
                }
                try add(String(literal[..<equals]), String(literal[literal.index(after: equals)...]), from: "--from-literal")
            }
            for file in envFiles {
                for entry in try EnvFile.read(file) { try add(entry.key, entry.value, from: "\(file):\(entry.line)") }
            }
            let client = try cluster.client()
            let namespace = cluster.namespace(for: client)
            let secret: JSONValue = [
                "apiVersion": "v1", "kind": "Secret", "type": .string(SecretType.opaque),
                "metadata": ["name": .string(name), "namespace": .string(namespace)],
                "data": .object(data.mapValues { .string(Data($0.utf8).base64EncodedString()) }),
            ]
            _ = try client.create(.secrets, namespace: namespace, secret)
            print("secret/\(name) created")
        }
    }

    private static func isName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        return !name.isEmpty && name.count <= 253 && name.allSatisfy { allowed.contains($0) }
            && name.first.map { $0.isLetter || $0.isNumber } == true && name.last.map { $0.isLetter || $0.isNumber } == true
    }
}

struct SecretInputError: Error, CustomStringConvertible {
    let description: String
}

/// docker's and kubectl's env-file format: `KEY=VALUE` per line, taken literally (no quotes
/// removed); blank lines and lines starting with `#` are skipped; a bare `KEY` takes the value
/// of that variable in fair's own environment.
enum EnvFile {
    struct Entry {
        let key: String
        let value: String
        let line: Int
    }

    static func read(_ path: String) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretInputError(description: "\(path): cannot read the env file")
        }
        guard data.count <= ConfigDataRules.maxSize, let text = String(data: data, encoding: .utf8) else {
            throw SecretInputError(description: "\(path): an env file must be UTF-8 text of at most 1 MiB")
        }
        var entries: [Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if let equals = trimmed.firstIndex(of: "=") {
                let key = String(trimmed[..<equals])
                guard !key.isEmpty, !key.contains(where: { $0 == " " || $0 == "\t" }) else {
                    throw SecretInputError(description: "\(path):\(index + 1): \"\(key)\" is not a variable name")
                }
                entries.append(Entry(key: key, value: String(trimmed[trimmed.index(after: equals)...]), line: index + 1))
            } else {
                let key = String(trimmed).trimmingCharacters(in: .whitespaces)
                guard let value = ProcessInfo.processInfo.environment[key] else { continue }
                entries.append(Entry(key: key, value: value, line: index + 1))
            }
        }
        return entries
    }
}
