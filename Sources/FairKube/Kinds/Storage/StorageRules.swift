import Foundation

/// Checks shared by PersistentVolume and PersistentVolumeClaim, in kube-apiserver's words.
enum StorageRules {
    static let accessModes = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
    static let volumeModes = ["Filesystem", "Block"]

    static func accessModeCauses(_ object: JSONValue, at path: String) -> [FieldCause] {
        guard let modes = object.value(at: path)?.arrayValue, !modes.isEmpty else {
            return [FieldCause(path, "Required value: at least 1 access mode is required")]
        }
        var causes: [FieldCause] = []
        for mode in modes {
            let text = mode.stringValue ?? ""
            if !accessModes.contains(text) {
                causes.append(FieldCause(path, "Unsupported value: \"\(text)\": supported values: \(accessModes.map { "\"\($0)\"" }.joined(separator: ", "))"))
            }
        }
        if modes.contains(.string("ReadWriteOncePod")) && modes.count > 1 {
            causes.append(FieldCause(path, "Forbidden: may not use ReadWriteOncePod with other access modes"))
        }
        return causes
    }

    /// A storage size: present, a quantity, more than zero.
    static func sizeCauses(_ object: JSONValue, at path: String) -> [FieldCause] {
        guard let value = object.value(at: path) else { return [FieldCause(path, "Required value")] }
        guard let quantity = Quantity(value) else {
            return [FieldCause(path, "Invalid value: \(String(decoding: JSONCoding.encodeBytes(value), as: UTF8.self)): quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
        }
        if quantity.milli <= 0 { return [FieldCause(path, "Invalid value: \"\(quantity)\": must be greater than zero")] }
        return []
    }

    static func volumeModeCauses(_ object: JSONValue, at path: String) -> [FieldCause] {
        guard let mode = object.value(at: path)?.stringValue, !volumeModes.contains(mode) else { return [] }
        return [FieldCause(path, "Unsupported value: \"\(mode)\": supported values: \"Block\", \"Filesystem\"")]
    }

    static func modesText(_ modes: [JSONValue]?) -> String {
        let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
        return (modes ?? []).compactMap { $0.stringValue.map { short[$0] ?? $0 } }.joined(separator: ",")
    }
}
