import FairKube
import Foundation

/// Defaulting and validation of what is stored, per resource — the part of admission every
/// object goes through, so controllers can rely on the fields they read being there.
enum Admission {
    /// Fields every new object gets: uid, creationTimestamp, generation, apiVersion/kind.
    static func prepareNew(_ object: inout JSONValue, _ definition: KindDefinition, namespace: String) {
        object["apiVersion"] = .string(definition.apiVersion)
        object["kind"] = .string(definition.kind)
        if definition.namespaced { object.set(.string(namespace), at: "metadata.namespace") } else { object.set(nil, at: "metadata.namespace") }
        object.set(.string(UUID().uuidString.lowercased()), at: "metadata.uid")
        object.set(.string(KubeTime.now()), at: "metadata.creationTimestamp")
        object.set(.int(1), at: "metadata.generation")
        object.set(nil, at: "metadata.deletionTimestamp")
        definition.prepareCreate(&object)
        definition.defaults(&object)
    }

    /// Field errors of an object about to be stored; empty when it is valid.
    static func validate(_ object: JSONValue, _ definition: KindDefinition) -> [(field: String, message: String)] {
        // Field types first, against Kubernetes' own definitions: what kube-apiserver's decoder
        // would refuse never reaches the checks below (or the store).
        let typeCauses = SchemaValidator.causes(object, apiVersion: definition.apiVersion, kind: definition.kind)
        if !typeCauses.isEmpty { return typeCauses }
        var causes: [(String, String)] = []
        let name = object.name ?? ""
        if name.isEmpty {
            causes.append(("metadata.name", "Required value: name or generateName is required"))
        } else if !isDNSSubdomain(name) {
            causes.append(("metadata.name", "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"))
        }
        for (key, _) in object.value(at: "metadata.labels")?.objectValue ?? [:] where key.isEmpty || key.count > 316 {
            causes.append(("metadata.labels", "Invalid value: \"\(key)\""))
        }
        causes += definition.validate(object).map { ($0.field, $0.message) }
        return causes
    }

    static func isDNSSubdomain(_ name: String) -> Bool { KubernetesNameRules.isDNSSubdomain(name) }
}
