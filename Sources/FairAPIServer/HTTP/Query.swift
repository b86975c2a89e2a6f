import FairKube
import Foundation

/// Query parameters of a request, read defensively: this runs before authentication, so no
/// string a client sends (`?=`, `?&&`, `?%zz`, a key without a value) may trap.
struct Query {
    private var items: [String: String] = [:]

    init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key: Substring, value: Substring
            if let equals = pair.firstIndex(of: "=") {
                key = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                key = pair
                value = ""
            }
            guard !key.isEmpty else { continue }
            // The first occurrence wins, as Go's url.Values.Get reads it.
            let name = Self.decode(key)
            if items[name] == nil { items[name] = Self.decode(value) }
        }
    }

    /// Form decoding: `+` is a space, `%XX` a byte; a malformed escape is kept as written.
    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
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
