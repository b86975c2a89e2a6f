import FairKube

/// The `pod-template-hash` a Deployment puts on each of its ReplicaSets: FNV-1a (32 bit) of the
/// pod template, plus the collision count when one was needed, spelled in the alphabet
/// Kubernetes uses for generated names so it never forms words.
enum TemplateHash {
    static let label = "pod-template-hash"
    private static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func compute(_ template: JSONValue, collisionCount: Int64?) -> String {
        var hash: UInt32 = 2_166_136_261
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for byte in bytes {
                hash ^= UInt32(byte)
                hash = hash &* 16_777_619
            }
        }
        mix(JSONCoding.encode(withoutHashLabel(template)))
        if let collisionCount { mix(String(collisionCount).utf8) }
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    /// Templates compared as a Deployment sees them: the hash label is the ReplicaSet's addition.
    static func withoutHashLabel(_ template: JSONValue) -> JSONValue {
        var copy = template
        if copy.value(at: ["metadata", "labels", label]) != nil {
            copy.set(nil, at: ["metadata", "labels", label])
            if copy.value(at: "metadata.labels")?.objectValue?.isEmpty == true { copy.set(nil, at: "metadata.labels") }
        }
        return copy
    }

    static func equalIgnoringHash(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        withoutHashLabel(a ?? .null) == withoutHashLabel(b ?? .null)
    }
}
