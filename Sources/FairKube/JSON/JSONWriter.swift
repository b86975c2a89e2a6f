import Foundation

/// Prints a `JSONValue` as UTF-8 bytes, byte for byte as Foundation's `JSONEncoder` does with
/// `[.sortedKeys, .withoutEscapingSlashes]` (plus `.prettyPrinted` when `pretty`), so digests
/// and stored objects do not change:
/// - keys sorted by their UTF-8 bytes (not by `String <`, which normalizes Unicode);
/// - strings escape only `"`, `\` and control characters below 0x20; everything else is raw UTF-8;
/// - doubles as Swift's shortest round-trip `description`, with a trailing `.0` dropped
///   (`1.0` → `1`, `1e+16`, `1.5e-07`); non-finite doubles, which parsed JSON cannot hold, as `null`;
/// - pretty: two-space indent, `" : "` between key and value, empty containers as `{\n\n}`.
///
/// Output goes to a plain malloc'd buffer rather than an Array: `Data` then takes it without a
/// copy, and unoptimized (debug) builds, which run every test, do not pay for generic Array code
/// on each byte. A struct, not a class, so debug builds do not check exclusive access on every
/// byte either; whoever makes one must end with `takeData()` or `takeBytes()`, which free it.
struct JSONWriter {
    private let pretty: Bool
    private var buffer: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    init(pretty: Bool, capacity: Int = 4096) {
        self.pretty = pretty
        self.capacity = capacity
        buffer = Self.allocate(capacity)
    }

    /// The bytes written, handing the buffer over to the Data; the writer is done after this.
    /// Spare room is given back first: encoded objects may be kept (watch caches, responses).
    __consuming func takeData() -> Data {
        var memory = buffer
        if capacity - count > 512, let shrunk = realloc(buffer, max(count, 1)) {
            memory = shrunk.assumingMemoryBound(to: UInt8.self)
        }
        return Data(bytesNoCopy: memory, count: count, deallocator: .free)
    }

    /// The bytes written, copied into an array; frees the buffer, the writer is done after this.
    __consuming func takeBytes() -> [UInt8] {
        defer { free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: count))
    }

    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        guard let memory = malloc(capacity) else { fatalError("out of memory allocating \(capacity) bytes for JSON output") }
        return memory.assumingMemoryBound(to: UInt8.self)
    }

    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        capacity = max(capacity * 2, count + extra)
        guard let grown = realloc(buffer, capacity) else { fatalError("out of memory growing JSON output to \(capacity) bytes") }
        buffer = grown.assumingMemoryBound(to: UInt8.self)
    }

    private mutating func put(_ byte: UInt8) {
        reserve(1)
        buffer[count] = byte
        count += 1
    }

    private mutating func put(_ bytes: UnsafePointer<UInt8>, count length: Int) {
        guard length > 0 else { return }
        reserve(length)
        (buffer + count).update(from: bytes, count: length)
        count += length
    }

    private mutating func append(_ text: StaticString) {
        put(text.utf8Start, count: text.utf8CodeUnitCount)
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
        put(0x5B)
        if pretty {
            put(0x0A)
            for (position, element) in elements.enumerated() {
                if position > 0 { append(",\n") }
                indent(level + 1)
                write(element, level: level + 1)
            }
            put(0x0A)
            indent(level)
        } else {
            for (position, element) in elements.enumerated() {
                if position > 0 { put(0x2C) }
                write(element, level: level + 1)
            }
        }
        put(0x5D)
    }

    private mutating func writeObject(_ members: [String: JSONValue], level: Int) {
        put(0x7B)
        if pretty { put(0x0A) }
        var first = true
        for member in Self.sorted(members) {
            if !first { pretty ? append(",\n") : put(0x2C) }
            first = false
            if pretty { indent(level + 1) }
            writeString(member.key)
            pretty ? append(" : ") : put(0x3A)
            write(member.value, level: level + 1)
        }
        if pretty {
            put(0x0A)
            indent(level)
        }
        put(0x7D)
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
        put(0x22)
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { writeEscaped($0) }
        if done == nil {
            var contiguous = string
            contiguous.makeContiguousUTF8()
            contiguous.utf8.withContiguousStorageIfAvailable { writeEscaped($0) }
        }
        put(0x22)
    }

    /// Copies runs of bytes that need no escape in one go.
    private mutating func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        let length = bytes.count
        var runStart = 0, position = 0
        while position < length {
            let byte = base[position]
            // 0x22 is '"', 0x5C is '\'.
            if byte >= 0x20 && byte != 0x22 && byte != 0x5C { position += 1; continue }
            put(base + runStart, count: position - runStart)
            position += 1
            runStart = position
            switch byte {
            case 0x22: append("\\\"")
            case 0x5C: append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            default:
                // Lowercase hex, as Foundation writes it: \u001f.
                let hexDigits: StaticString = "0123456789abcdef"
                append("\\u00")
                put(hexDigits.utf8Start[Int(byte >> 4)])
                put(hexDigits.utf8Start[Int(byte & 0x0F)])
            }
        }
        put(base + runStart, count: length - runStart)
    }

    private mutating func writeInteger(_ number: Int64) {
        if number < 0 { put(0x2D) }
        var magnitude = number.magnitude
        var digits = 1
        var bound: UInt64 = 10
        while digits < 20, magnitude >= bound {
            digits += 1
            bound = bound &* 10
        }
        reserve(digits)
        var position = count + digits
        repeat {
            position -= 1
            buffer[position] = 0x30 + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        count += digits
    }

    private mutating func writeDouble(_ number: Double) {
        guard number.isFinite else { append("null"); return }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        text.withUTF8 { if let base = $0.baseAddress { put(base, count: $0.count) } }
    }

    private mutating func indent(_ level: Int) {
        reserve(level * 2)
        (buffer + count).initialize(repeating: 0x20, count: level * 2)
        count += level * 2
    }
}
