import FairKube

/// A value as JSON for a message, cut short after about `maximumLength` bytes: a 3 MB body
/// must not turn into a 3 MB message, nor cost the time of printing it whole.
enum ValuePreview {
    static let maximumLength = 100

    static func text(_ value: JSONValue, limit: Int = maximumLength) -> String {
        var preview = Preview(limit: limit)
        preview.write(value)
        if preview.full && !preview.output.hasSuffix("...\"") { preview.output += "..." }
        return preview.output
    }

    private struct Preview {
        let limit: Int
        var output = ""
        /// Set once the limit is reached; nothing more is written.
        var full = false

        var room: Int { limit - output.utf8.count }

        mutating func write(_ value: JSONValue) {
            guard !full else { return }
            guard room > 0 else { full = true; return }
            switch value {
            case let .string(string):
                // Looks at no more of a long string than could be shown.
                let shown = String(string.prefix(room))
                if shown.utf8.count < string.utf8.count {
                    // Keep the closing quote, so what is shown still reads as a string.
                    output += String(Self.encoded(.string(shown)).dropLast()) + "...\""
                    full = true
                } else {
                    output += Self.encoded(value)
                }
            case .null, .bool, .int, .double:
                output += Self.encoded(value)
            case let .array(items):
                output += "["
                for (index, item) in items.enumerated() {
                    if index > 0 { output += "," }
                    write(item)
                    if full { return }
                }
                output += "]"
            case let .object(members):
                output += "{"
                let shown = max(room / 4, 1)
                for (index, key) in Self.firstKeys(of: members, count: shown).enumerated() {
                    if index > 0 { output += "," }
                    output += Self.encoded(.string(key)) + ":"
                    write(members[key]!)
                    if full { return }
                }
                if members.count > shown { full = true; return }
                output += "}"
            }
            if room < 0 { full = true }
        }

        /// The `count` smallest keys in order, without sorting all of a large object's keys
        /// (each member printed takes at least 4 bytes, `"":0`, so no more could be shown).
        static func firstKeys(of members: [String: JSONValue], count: Int) -> [String] {
            if members.count <= count { return members.keys.sorted() }
            var smallest: [String] = []
            smallest.reserveCapacity(count + 1)
            for key in members.keys where smallest.count < count || key < smallest[smallest.count - 1] {
                let position = smallest.firstIndex { key < $0 } ?? smallest.count
                smallest.insert(key, at: position)
                if smallest.count > count { smallest.removeLast() }
            }
            return smallest
        }

        static func encoded(_ value: JSONValue) -> String {
            String(decoding: JSONCoding.encodeBytes(value), as: UTF8.self)
        }
    }
}
