import FairKube

/// An IntOrString field such as `maxSurge: 1` or `maxUnavailable: "25%"`, resolved against a
/// replica count.
enum IntOrPercent {
    struct Invalid: Error, CustomStringConvertible {
        let field: String
        let value: String
        var description: String { "\(field): invalid value \"\(value)\": must be an integer or a percentage like \"25%\"" }
    }

    static func resolve(_ value: JSONValue?, field: String, total: Int64, roundUp: Bool, default fallback: JSONValue) throws -> Int64 {
        var given = fallback
        if let value, value != .null { given = value }
        if let number = given.intValue { return max(0, number) }
        guard let text = given.stringValue else { throw Invalid(field: field, value: "\(given)") }
        if text.hasSuffix("%"), let percent = Int64(text.dropLast()) {
            let scaled = Double(percent) * Double(total) / 100
            return max(0, Int64(roundUp ? scaled.rounded(.up) : scaled.rounded(.down)))
        }
        if let number = Int64(text) { return max(0, number) }
        throw Invalid(field: field, value: text)
    }
}
