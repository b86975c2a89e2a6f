import Foundation

/// How a training or serving container reads a Secret, written as `fair train --secret`,
/// `--secret-env` and fair.yaml's `secrets:` entries write it:
/// - `NAME`: every key of Secret NAME as an environment variable (`envFrom`);
/// - `VAR=NAME:KEY`: key KEY of Secret NAME as the variable VAR (`secretKeyRef`).
public enum SecretUse: Sendable, Equatable, CustomStringConvertible {
    case allKeys(secret: String)
    case key(variable: String, secret: String, key: String)

    public var secret: String {
        switch self {
        case let .allKeys(secret), let .key(_, secret, _): return secret
        }
    }

    public var description: String {
        switch self {
        case let .allKeys(secret): return secret
        case let .key(variable, secret, key): return "\(variable)=\(secret):\(key)"
        }
    }

    /// Parses either form; the error says which part is wrong.
    public init(parsing text: String) throws {
        if let equals = text.firstIndex(of: "=") {
            let variable = String(text[..<equals]), reference = String(text[text.index(after: equals)...])
            guard let colon = reference.firstIndex(of: ":") else {
                throw SecretUseError(text: text, problem: "expected VAR=SECRET:KEY")
            }
            let secret = String(reference[..<colon]), key = String(reference[reference.index(after: colon)...])
            guard Self.isVariableName(variable) else {
                throw SecretUseError(text: text, problem: "\"\(variable)\" is not an environment variable name")
            }
            try Self.checkSecretName(secret, in: text)
            guard Self.isKey(key) else {
                throw SecretUseError(text: text, problem: "\"\(key)\" is not a Secret key (letters, digits, '-', '_' and '.')")
            }
            self = .key(variable: variable, secret: secret, key: key)
        } else {
            try Self.checkSecretName(text, in: text)
            self = .allKeys(secret: text)
        }
    }

    private static func checkSecretName(_ name: String, in text: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        guard !name.isEmpty, name.count <= 253, name.allSatisfy({ allowed.contains($0) }),
              name.first.map({ $0.isLetter || $0.isNumber }) == true, name.last.map({ $0.isLetter || $0.isNumber }) == true else {
            throw SecretUseError(text: text, problem: "\"\(name)\" is not a Secret name (lower-case letters, digits, '-' and '.')")
        }
    }

    private static func isVariableName(_ name: String) -> Bool {
        guard let first = name.first, !first.isNumber else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
    }

    private static func isKey(_ key: String) -> Bool {
        !key.isEmpty && key != "." && key != ".." && key.count <= 253
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}

public struct SecretUseError: Error, CustomStringConvertible {
    public let text: String
    public let problem: String
    public var description: String { "\(text): \(problem)" }
}
