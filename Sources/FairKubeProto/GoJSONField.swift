/// How Go's encoding/json writes one field of a Kubernetes type. Kubernetes turns a protobuf body
/// into its Go object and that object into JSON, so the JSON of a field depends on its Go
/// declaration, not on whether the message carried it: kubectl's protobuf writer sends every
/// plain field (`"name": ""`, `"paused": false`) and pointers only when set, and Go then leaves
/// out, or writes as zero, what its tags say. `scripts/protobuf-go-json.py` reads the
/// declarations from Kubernetes' Go sources into `GoJSONFields.table`.
struct GoJSONField: Sendable {
    enum Presence: Sendable {
        /// A pointer, a struct, or a plain field without `omitempty`: whatever value it has is written.
        case always
        /// `omitempty` on a plain string, number, bool, slice or map: left out when zero or empty.
        case omitEmpty
        /// A struct embedded with `json:",inline"`: its fields are the parent's.
        case inline
    }

    /// The JSON key; empty for an inline struct.
    let key: String
    let presence: Presence
    /// What Go writes when the message lacks the field (JSON text of the zero value); nil where
    /// Go leaves it out (a nil pointer with `omitempty`, an empty `omitempty` field).
    let absent: String?

    /// A pointer with `omitempty`: written whenever set, even to 0, "" or false; left out when not.
    static func whenSet(_ key: String) -> GoJSONField { GoJSONField(key: key, presence: .always, absent: nil) }
    static func always(_ key: String, absent: String) -> GoJSONField { GoJSONField(key: key, presence: .always, absent: absent) }
    static func omitEmpty(_ key: String) -> GoJSONField { GoJSONField(key: key, presence: .omitEmpty, absent: nil) }
    static func inline(absent: String) -> GoJSONField { GoJSONField(key: "", presence: .inline, absent: absent) }
}

/// The generated knowledge of Kubernetes' Go types (`Generated/GoJSONFields.swift`).
enum GoJSONFields {}
