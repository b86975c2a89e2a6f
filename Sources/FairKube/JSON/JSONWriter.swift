import Foundation

/// Prints a `JSONValue` as UTF-8 bytes, byte for byte as Foundation's `JSONEncoder` does with
/// `[.sortedKeys, .withoutEscapingSlashes]` (plus `.prettyPrinted` when `pretty`), so digests
/// and stored objects do not change:
/// - keys sorted by their UTF-8 bytes (not by `String <`, which normalizes Unicode);
/// - strings escape only `"`, `\` and control characters below 0x20; everything else is raw UTF-8;
/// - doubles as Swift's shortest round-trip `description`, with a trailing `.0` dropped
///   (`1.0` → `1`, `1e+16`, `1.5e-07`); non-finite doubles, which parsed JSON cannot hold, as `null`;
/// - pretty: two-space indent, `" : "` between key and value, empty containers as `{\n\n}`.
struct JSONWriter {
    private(set) var output: [UInt8] = []
    private let pretty: Bool

    init(pretty: Bool, capacity: Int = 1024) {
        self.pretty = pretty
        output.reserveCapacity(capacity)
    }

    mutating func write(_ value: JSONValue, level: Int = 0) {
        switch value {
        case .null: append("null")
        case let .bool(flag): append(flag ? "true" : "false")
        case let .int(number): writeInteger(number)
        case let .double(number): writeDouble(number)
        case let .string(string): writeString(string)
        case let .array(elements): writeArray(elements, level: level)
        case let .object(members): writeObject(members, level: level)
        }
    }

    private mutating func writeArray(_ elements: [JSONValue], level: Int) {
        output.append(UInt8(ascii: "["))
        if pretty {
            output.append(UInt8(ascii: "\n"))
            for (position, element) in elements.enumerated() {
                if position > 0 { append(",\n") }
                indent(level + 1)
                write(element, level: level + 1)
            }
            output.append(UInt8(ascii: "\n"))
            indent(level)
        } else {
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(element, level: level + 1)
            }
        }
        output.append(UInt8(ascii: "]"))
    }

    private mutating func writeObject(_ members: [String: JSONValue], level: Int) {
        output.append(UInt8(ascii: "{"))
        if pretty { output.append(UInt8(ascii: "\n")) }
        var first = true
        for member in Self.sorted(members) {
            if !first { pretty ? append(",\n") : output.append(UInt8(ascii: ",")) }
            first = false
            if pretty { indent(level + 1) }
            writeString(member.key)
            pretty ? append(" : ") : output.append(UInt8(ascii: ":"))
            write(member.value, level: level + 1)
        }
        if pretty {
            output.append(UInt8(ascii: "\n"))
            indent(level)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Members in the byte order of their UTF-8 keys, which is what `.sortedKeys` gives on Linux.
    static func sorted(_ members: [String: JSONValue]) -> [Member] {
        var entries = members.map { Member(key: $0.key, value: $0.value) }
        if entries.count > 1 { entries.sort { utf8Precedes($0.key, $1.key) } }
        return entries
    }

    /// A struct, not a tuple: tuple arrays go through generic metadata on every operation.
    struct Member {
        let key: String
        let value: JSONValue
    }

    static func utf8Precedes(_ left: String, _ right: String) -> Bool {
        let fast = left.utf8.withContiguousStorageIfAvailable { leftBytes in
            right.utf8.withContiguousStorageIfAvailable { rightBytes -> Bool in
                // Keys are short and differ early: a plain loop beats calling memcmp.
                for position in 0..<min(leftBytes.count, rightBytes.count) where leftBytes[position] != rightBytes[position] {
                    return leftBytes[position] < rightBytes[position]
                }
                return leftBytes.count < rightBytes.count
            }
        }
        if let fast = fast ?? nil { return fast }
        return left.utf8.lexicographicallyPrecedes(right.utf8)
    }

    private mutating func writeString(_ string: String) {
        output.append(UInt8(ascii: "\""))
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { writeEscaped($0) }
        if done == nil {
            var contiguous = string
            contiguous.makeContiguousUTF8()
            contiguous.utf8.withContiguousStorageIfAvailable { writeEscaped($0) }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Copies runs of bytes that need no escape in one go.
    private mutating func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for (position, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            runStart = position + 1
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            default:
                // Lowercase hex, as Foundation writes it: \u001f.
                let hexDigits: StaticString = "0123456789abcdef"
                append("u00")
                output.append(hexDigits.utf8Start[Int(byte >> 4)])
                output.append(hexDigits.utf8Start[Int(byte & 0x0F)])
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    private mutating func writeInteger(_ number: Int64) {
        if number < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits = 1
        var bound: UInt64 = 10
        while digits < 20, magnitude >= bound {
            digits += 1
            bound = bound &* 10
        }
        let end = output.count + digits
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var position = end
        repeat {
            position -= 1
            output[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    private mutating func writeDouble(_ number: Double) {
        guard number.isFinite else { append("null"); return }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        output.append(contentsOf: text.utf8)
    }

    private mutating func indent(_ level: Int) {
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
    }

    private mutating func append(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
