import Foundation

/// Credentials a pod reads as env or files, and the node pulls images with (core/v1 Secret).
/// `stringData` is write-only: merged into `data` (base64) on every write, as kube-apiserver's
/// conversion does, so what is stored and served has `data` only. Values are never printed:
/// the table shows how many keys there are.
extension KindDefinition {
    public static let secret = KindDefinition(
        group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true,
        defaults: { object in
            if (object["type"]?.stringValue ?? "").isEmpty { object["type"] = .string(SecretType.opaque) }
            SecretData.mergeStringData(&object)
        },
        validate: { SecretData.causes($0) },
        validateUpdate: { old, new in
            var causes: [FieldCause] = []
            if let before = old["type"]?.stringValue, let after = new["type"]?.stringValue, before != after {
                causes.append(FieldCause("type", "Invalid value: \(ConfigDataRules.quoted(after)): field is immutable"))
            }
            return causes + ConfigDataRules.immutabilityCauses(old: old, new: new, dataFields: ["data"])
        },
        columns: [
            .name,
            .text("Type", "type", or: ""),
            TableColumn(name: "Data", type: "integer") { object, _ in .int(Int64(object["data"]?.objectValue?.count ?? 0)) },
            .age,
        ])
}

extension APIResource {
    public static let secrets = KindDefinition.secret.resource
}

/// The types kube-apiserver checks the contents of (`core.SecretType*`).
public enum SecretType {
    public static let opaque = "Opaque"
    public static let serviceAccountToken = "kubernetes.io/service-account-token"
    public static let dockercfg = "kubernetes.io/dockercfg"
    public static let dockerConfigJSON = "kubernetes.io/dockerconfigjson"
    public static let basicAuth = "kubernetes.io/basic-auth"
    public static let sshAuth = "kubernetes.io/ssh-auth"
    public static let tls = "kubernetes.io/tls"
}

/// Reading and checking a Secret's `data`.
public enum SecretData {
    /// The decoded value of each key; nil for a value that is not valid base64.
    public static func decoded(_ secret: JSONValue) -> [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        for (key, value) in secret["data"]?.objectValue ?? [:] {
            if let bytes = value.stringValue.flatMap(decode) { values[key] = bytes }
        }
        return values
    }

    /// Standard base64 with padding, as Go's decoder of `[]byte` fields reads it (which skips
    /// line breaks).
    public static func decode(_ text: String) -> [UInt8]? {
        let compact = text.contains(where: { $0 == "\n" || $0 == "\r" }) ? text.filter { $0 != "\n" && $0 != "\r" } : text
        return Data(base64Encoded: compact).map(Array.init)
    }

    /// `stringData` entries replace `data` entries of the same key; `stringData` itself is not kept.
    static func mergeStringData(_ object: inout JSONValue) {
        guard let strings = object["stringData"] else { return }
        object["stringData"] = nil
        guard let entries = strings.objectValue, !entries.isEmpty else { return }
        var data = object["data"]?.objectValue ?? [:]
        for (key, value) in entries {
            data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
        }
        object["data"] = .object(data)
    }

    /// kube's `ValidateSecret`: keys, base64, the 1 MiB limit, and what each type requires. A
    /// message never carries a value.
    static func causes(_ secret: JSONValue) -> [FieldCause] {
        var causes = ConfigDataRules.keyCauses(secret, "data")
        let entries = secret["data"]?.objectValue ?? [:]
        var total = 0
        for key in entries.keys.sorted() {
            guard let bytes = entries[key]?.stringValue.flatMap(decode) else {
                causes.append(FieldCause("data[\(key)]", "Invalid value: \"<secret contents redacted>\": illegal base64 data"))
                continue
            }
            total += bytes.count
        }
        if total > ConfigDataRules.maxSize {
            causes.append(FieldCause("data", "Too long: may not be more than \(ConfigDataRules.maxSize) bytes"))
        }
        func require(_ key: String) {
            if entries[key] == nil { causes.append(FieldCause("data[\(key)]", "Required value")) }
        }
        func requireJSON(_ key: String) {
            guard let value = entries[key] else { return require(key) }
            guard let bytes = value.stringValue.flatMap(decode), (try? JSONCoding.decode(bytes))?.objectValue != nil else {
                causes.append(FieldCause("data[\(key)]", "Invalid value: \"<secret contents redacted>\": not a JSON object"))
                return
            }
        }
        switch secret["type"]?.stringValue ?? SecretType.opaque {
        case SecretType.serviceAccountToken:
            if secret.metadata.annotations["kubernetes.io/service-account.name"] == nil {
                causes.append(FieldCause("metadata.annotations[kubernetes.io/service-account.name]", "Required value"))
            }
        case SecretType.dockercfg: requireJSON(".dockercfg")
        case SecretType.dockerConfigJSON: requireJSON(".dockerconfigjson")
        case SecretType.basicAuth:
            if entries["username"] == nil && entries["password"] == nil {
                require("username")
                require("password")
            }
        case SecretType.sshAuth: require("ssh-privatekey")
        case SecretType.tls:
            require("tls.crt")
            require("tls.key")
        default: break
        }
        return causes
    }
}
