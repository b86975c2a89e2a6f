import Foundation

/// A Kubernetes resource quantity ("500m", "2", "1Gi", "128M", "1e3"), read as an exact count of
/// milli-units so cpu ("250m") and bytes ("1Gi") add up without rounding.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milli: Int64

    public init(milli: Int64) { self.milli = milli }
    public init(units: Int64) { milli = units &* 1000 }

    private static let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
        ("Ei", 1_152_921_504_606_846_976), ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9),
        ("T", 1e12), ("P", 1e15), ("E", 1e18),
    ]

    /// Nil when `text` is not a quantity; the caller names the field in its error.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        var number = Substring(trimmed)
        var scale = 1.0
        for (suffix, factor) in Self.suffixes where trimmed.hasSuffix(suffix) {
            // "1e3" is an exponent, not the "E" suffix; only letters after digits count.
            number = trimmed.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0,
              number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-" }) else { return nil }
        let milli = (value * scale * 1000).rounded(.up)
        guard milli < Double(Int64.max) else { return nil }
        self.milli = Int64(milli)
    }

    /// A quantity from a JSON string or number (`cpu: 2` is valid YAML).
    public init?(_ json: JSONValue?) {
        switch json {
        case let .string(text)?: self.init(text)
        case let .int(value)?: self.init(units: value)
        case let .double(value)?: self.init(milli: Int64((value * 1000).rounded(.up)))
        default: return nil
        }
    }

    /// Whole units, rounded up (bytes of memory, number of GPUs).
    public var units: Int64 { (milli + 999) / 1000 }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.milli < rhs.milli }
    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity { Quantity(milli: lhs.milli &+ rhs.milli) }
    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity { Quantity(milli: lhs.milli &- rhs.milli) }
    public static let zero = Quantity(milli: 0)

    /// Canonical text: "250m" for fractions, else whole units ("2", "1073741824").
    public var description: String { milli % 1000 == 0 ? String(milli / 1000) : "\(milli)m" }
}
