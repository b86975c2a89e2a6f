import ArgumentParser
import FairBuild
import FairWorkloads

/// `--secret` and `--secret-env` of `fair train` and `fair serve`: Secrets of the cluster the
/// container reads as env. They add to fair.yaml's `secrets:`; only names go into manifests.
struct SecretOptions: ParsableArguments {
    @Option(name: .customLong("secret"), help: "A Secret whose every key becomes an environment variable (repeatable).")
    var secrets: [String] = []

    @Option(name: .customLong("secret-env"), help: "VAR=SECRET:KEY: key KEY of Secret SECRET as the variable VAR (repeatable).")
    var secretEnv: [String] = []

    func validate() throws {
        for text in secrets where text.contains("=") {
            throw ValidationError("--secret \(text): give a Secret's name; for one key use --secret-env VAR=SECRET:KEY")
        }
        for text in secretEnv where !text.contains("=") {
            throw ValidationError("--secret-env \(text): expected VAR=SECRET:KEY")
        }
        _ = try uses()
    }

    private func uses() throws -> [SecretUse] {
        do {
            return try (secrets + secretEnv).map(SecretUse.init(parsing:))
        } catch let error as SecretUseError {
            throw ValidationError("\(error)")
        }
    }

    /// fair.yaml's entries, then the flags', each Secret or variable once (a flag's variable
    /// replaces fair.yaml's of the same name).
    func merged(with config: [SecretUse]) throws -> WorkloadSecrets {
        var result = WorkloadSecrets()
        for use in config + (try uses()) {
            switch use {
            case let .allKeys(secret):
                if !result.allKeys.contains(secret) { result.allKeys.append(secret) }
            case let .key(variable, secret, key):
                result.keys.removeAll { $0.variable == variable }
                result.keys.append(.init(variable: variable, secret: secret, key: key))
            }
        }
        return result
    }
}
