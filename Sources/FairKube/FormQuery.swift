import Foundation

/// A URL's query as Go's `url.ParseQuery` reads it: `&`-separated pairs, `+` a space, `%XX` a
/// byte, every value of a repeated key kept in order (exec's `command` is one per argument).
/// Read defensively: it runs before authentication, so no string (`?=`, `?&&`, `?%zz`, a key
/// without a value) may trap; a malformed escape is kept as written.
public struct FormQuery: Sendable {
    public private(set) var pairs: [(name: String, value: String)] = []

    public init(_ query: String?) {
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
            pairs.append((Self.decode(key), Self.decode(value)))
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// The first value, as Go's `url.Values.Get` reads it.
    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value given for `name`, in order.
    public func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// A boolean parameter, as `QueryFlag` reads one.
    public func flag(_ name: String) -> Bool { QueryFlag.value(self[name]) }
}
