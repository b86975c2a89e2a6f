import FairKube
import Foundation

/// What kube-apiserver's DefaultStorageClass admission plugin does: a new claim that names no
/// class (absent, not `""`, which asks for no class) gets the default one, the newest when
/// several are marked. And the server's own default class exists from the first start.
enum StorageAdmission {
    static func admit(_ claim: inout JSONValue, store: ObjectStore) {
        guard claim.value(at: "spec.storageClassName") == nil else { return }
        let defaults = store.list(KindDefinition.storageClass.storageKey, namespace: nil).items.map(\.object)
            .filter(KindDefinition.isDefaultClass)
            .sorted { ($0.value(at: "metadata.creationTimestamp")?.stringValue ?? "", $0.name ?? "")
                > ($1.value(at: "metadata.creationTimestamp")?.stringValue ?? "", $1.name ?? "") }
        if let chosen = defaults.first?.name { claim.set(.string(chosen), at: ["spec", "storageClassName"]) }
    }

    /// Made once, when the store has no class of that name (a user's change to it stays).
    static func ensureDefaultClass(in store: ObjectStore) throws {
        let definition = KindDefinition.storageClass
        guard store.get(definition.storageKey, namespace: "", name: LocalStorage.className) == nil else { return }
        var object = LocalStorage.storageClass
        Admission.prepareNew(&object, definition, namespace: "")
        try store.write(definition.storageKey, namespace: "", name: LocalStorage.className) { _ in object }
    }
}
