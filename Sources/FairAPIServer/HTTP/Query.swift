import FairKube
import Foundation

/// Query parameters of a request, read defensively: this runs before authentication, so no
/// string a client sends (`?=`, `?&&`, `?%zz`, a key without a value) may trap.
struct Query {
    private var items: [String: String] = [:]
    /// Every pair as sent, for parameters given once per value (exec's `command`).
    let form: FormQuery

    init(_ query: String?) {
        form = FormQuery(query)
        // The first occurrence wins, as Go's url.Values.Get reads it.
        for pair in form.pairs where items[pair.name] == nil { items[pair.name] = pair.value }
    }

    subscript(key: String) -> String? { items[key] }

    /// A boolean parameter, as `QueryFlag` reads one (the Python client sends `True`).
    func flag(_ key: String) -> Bool { QueryFlag.value(items[key]) }

    /// An integer parameter; a value that is not one is the client's error (400), not ignored.
    func integer(_ key: String) throws -> Int64? {
        guard let text = items[key], !text.isEmpty else { return nil }
        guard let value = Int64(text) else {
            throw APIError.badRequest("invalid value for \(key): \"\(text)\" is not an integer")
        }
        return value
    }
}
