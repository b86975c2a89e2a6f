import Foundation

/// Rules ConfigMaps and Secrets share, as kube-apiserver's validation states them: what a data
/// key may be (`IsConfigMapKey`), the 1 MiB limit, and `immutable`.
public enum ConfigDataRules {
    /// kube's `MaxSecretSize`, which ConfigMaps share.
    public static let maxSize = 1 << 20

    /// Why `key` cannot name a file in a volume or an entry of `data`; nil when it can.
    public static func keyProblem(_ key: String) -> String? {
        if key.utf8.count > 253 { return "must be no more than 253 characters" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")
        if key.isEmpty || !key.allSatisfy({ allowed.contains($0) }) {
            return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        }
        if key == "." { return "must not be '.'" }
        if key == ".." { return "must not be '..'" }
        if key.hasPrefix("..") { return "must not start with '..'" }
        return nil
    }

    /// Field errors for the keys of the map at `field` (`data`, `binaryData`, `stringData`).
    public static func keyCauses(_ object: JSONValue, _ field: String) -> [FieldCause] {
        (object[field]?.objectValue ?? [:]).keys.sorted().compactMap { key in
            keyProblem(key).map { FieldCause("\(field)[\(key)]", "Invalid value: \(quoted(key)): \($0)") }
        }
    }

    /// `immutable: true` freezes the data and itself (kube's `ValidateConfigMapUpdate` and
    /// `ValidateSecretUpdate`); metadata can still change.
    public static func immutabilityCauses(old: JSONValue, new: JSONValue, dataFields: [String]) -> [FieldCause] {
        guard old["immutable"]?.boolValue == true else { return [] }
        var causes: [FieldCause] = []
        if new["immutable"]?.boolValue != true {
            causes.append(FieldCause("immutable", "Forbidden: field is immutable when `immutable` is set"))
        }
        for field in dataFields where (old[field] ?? .null) != (new[field] ?? .null) {
            causes.append(FieldCause(field, "Forbidden: field is immutable when `immutable` is set"))
        }
        return causes
    }
}

extension ConfigDataRules {
    /// A value as kube's messages quote it (Go's %q, near enough: JSON string syntax).
    static func quoted(_ text: String) -> String {
        String(decoding: JSONCoding.encodeBytes(.string(text)), as: UTF8.self)
    }
}
