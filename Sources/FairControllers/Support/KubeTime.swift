import FairKube
import Foundation

/// Timestamps as the API carries them (RFC 3339, UTC, whole seconds), and back.
enum KubeTime {
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    static func now() -> String { format(Date()) }

    /// Accepts both `Time` (`2024-05-01T10:00:00Z`) and `MicroTime` (fractional seconds).
    static func parse(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func parse(_ value: JSONValue?) -> Date? { parse(value?.stringValue) }
}
