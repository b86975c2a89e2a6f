import FairKube
import Foundation

/// The Secrets a training or serving container reads: whole Secrets as env (`envFrom`) and single
/// keys as named variables (`secretKeyRef`). Only references go into a manifest, never values.
/// A project's own template must use them: one that drops a requested Secret is an error, not a
/// run without its credentials.
public struct WorkloadSecrets: Sendable, Equatable {
    public var allKeys: [String] = []
    public var keys: [Key] = []

    public struct Key: Sendable, Equatable {
        public var variable: String
        public var secret: String
        public var key: String

        public init(variable: String, secret: String, key: String) {
            self.variable = variable
            self.secret = secret
            self.key = key
        }
    }

    public init(allKeys: [String] = [], keys: [Key] = []) {
        self.allKeys = allKeys
        self.keys = keys
    }

    public var isEmpty: Bool { allKeys.isEmpty && keys.isEmpty }

    /// `hasSecrets`, `secrets` ({name}) and `secretEnv` ({name, secret, key}) for the templates.
    var templateValues: [String: Any] {
        ["hasSecrets": !allKeys.isEmpty,
         "secrets": allKeys.map { ["name": $0] as [String: Any] },
         "secretEnv": keys.map { ["name": $0.variable, "secret": $0.secret, "key": $0.key] as [String: Any] }]
    }

    /// Checks that `rendered` reads every requested Secret from a container running `image`.
    func check(_ rendered: JSONValue, image: String, source: String) throws {
        guard !isEmpty else { return }
        let spec = rendered.value(at: "spec.template.spec")
        let containers = (spec?["initContainers"]?.arrayValue ?? []) + (spec?["containers"]?.arrayValue ?? [])
        let readers = containers.filter { $0["image"]?.stringValue == image }.map { Container(json: $0) }
        let whole = Set(readers.flatMap { $0.envFrom.compactMap { $0.secretRef?.name } })
        let single = Set(readers.flatMap { $0.env.compactMap { variable -> String? in
            guard let reference = variable.valueFrom?.secretKeyRef else { return nil }
            return "\(variable.name ?? "")=\(reference.name ?? ""):\(reference.key ?? "")"
        } })
        let missing = allKeys.filter { !whole.contains($0) } + keys.map { "\($0.variable)=\($0.secret):\($0.key)" }.filter { !single.contains($0) }
        if !missing.isEmpty {
            throw TrainingJob.Invalid(description: "\(source) does not read the Secrets asked for (\(missing.joined(separator: ", "))): give its container `envFrom` from {{#secrets}} and `env` from {{#secretEnv}}, as the built-in template does")
        }
    }
}
