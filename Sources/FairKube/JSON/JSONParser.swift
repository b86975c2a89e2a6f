/// Reads one RFC 8259 JSON document from UTF-8 bytes, straight into a `JSONValue`.
///
/// Choices a caller may notice:
/// - A number whose value is a whole number within Int64's range becomes `.int` (exactly, even
///   when written `1.0`, `1e3` or `-0`); every other number becomes the nearest `.double`.
///   Numbers too large for a Double (`1e400`) are an error. This is what the Codable path
///   gave, and it pairs with `JSONWriter`, which prints whole doubles without a fraction.
/// - Escaped lone surrogates (`"\uD800"`) and invalid UTF-8 inside strings are errors, not
///   replaced: the input is not what it claims to be, and guessing would change the object.
/// - A duplicated object key keeps its last value, as the Kubernetes API server does.
/// - Trailing commas, leading zeros, comments and trailing garbage are errors.
/// - A UTF-8 byte-order mark at the start is skipped; other encodings are not detected.
/// - Arrays and objects may nest at most `maximumDepth` deep, so hostile input cannot
///   overflow the stack.
struct JSONParser {
    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    /// Reused for strings with escapes, so only the final String is allocated.
    private var scratch: [UInt8] = []
    /// Members and elements of the containers being read, innermost last. Each container is
    /// built once at its full size from its slice here, instead of growing (and, for objects,
    /// rehashing) as it is read.
    private var memberStack: [Member] = []
    private var elementStack: [JSONValue] = []

    /// A struct, not a tuple: tuple arrays go through generic metadata on every operation.
    private struct Member {
        let key: String
        let value: JSONValue
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }

    private mutating func parseDocument() throws -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw failure("expected the end of the document after the JSON value, found \(found(at: index))")
        }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws -> JSONValue {
        guard index < bytes.count else {
            throw failure("expected a value, found the end of the input")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default:
            throw failure("expected a value (object, array, string, number, true, false or null), found \(found(at: index))")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enterContainer()
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object([:])
        }
        let firstMember = memberStack.count
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("expected a member name in double quotes, found \(found(at: index))")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw failure("expected ':' after member name \(quoted(key)), found \(found(at: index))")
            }
            index += 1
            skipWhitespace()
            memberStack.append(Member(key: key, value: try parseValue()))
            skipWhitespace()
            guard index < bytes.count else {
                throw failure("expected ',' or '}' after the value of \(quoted(key)), found the end of the input")
            }
            let separator = bytes[index]
            if separator == UInt8(ascii: "}") { index += 1; break }
            guard separator == UInt8(ascii: ",") else {
                throw failure("expected ',' or '}' after the value of \(quoted(key)), found \(found(at: index))")
            }
            let comma = index
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                throw JSONParseError(offset: comma, reason: "trailing comma before '}' is not allowed")
            }
        }
        depth -= 1
        var members = [String: JSONValue](minimumCapacity: memberStack.count - firstMember)
        for member in memberStack[firstMember...] { members[member.key] = member.value }
        memberStack.removeSubrange(firstMember...)
        return .object(members)
    }

    private mutating func parseArray() throws -> JSONValue {
        try enterContainer()
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array([])
        }
        let firstElement = elementStack.count
        while true {
            elementStack.append(try parseValue())
            let elementCount = elementStack.count - firstElement
            skipWhitespace()
            guard index < bytes.count else {
                throw failure("expected ',' or ']' after array element \(elementCount - 1), found the end of the input")
            }
            let separator = bytes[index]
            if separator == UInt8(ascii: "]") { index += 1; break }
            guard separator == UInt8(ascii: ",") else {
                throw failure("expected ',' or ']' after array element \(elementCount - 1), found \(found(at: index))")
            }
            let comma = index
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                throw JSONParseError(offset: comma, reason: "trailing comma before ']' is not allowed")
            }
        }
        depth -= 1
        let elements = Array(elementStack[firstElement...])
        elementStack.removeSubrange(firstElement...)
        return .array(elements)
    }

    private mutating func enterContainer() throws {
        depth += 1
        if depth > Self.maximumDepth {
            throw failure("arrays and objects nest more than \(Self.maximumDepth) levels deep")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let start = index
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for byte in expected {
            guard index < bytes.count, bytes[index] == byte else {
                throw JSONParseError(offset: start, reason: "expected '\(literal)', found \(found(at: start, length: expected.count))")
            }
            index += 1
        }
    }

    // MARK: - Strings

    /// Reads a string starting at its opening quote; leaves `index` after the closing quote.
    private mutating func parseString() throws -> String {
        let opening = index
        index += 1
        let start = index
        var sawNonASCII = false
        // Most strings have no escapes: make the String from the input bytes directly.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if sawNonASCII { try validateUTF8(start..<index) }
                let string = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw controlCharacterFailure(byte) }
            if byte >= 0x80 { sawNonASCII = true }
            index += 1
        }
        guard index < bytes.count else { throw unterminatedString(opening) }

        scratch.removeAll(keepingCapacity: true)
        if sawNonASCII { try validateUTF8(start..<index) }
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                try parseEscape()
                continue
            }
            let runStart = index
            var runHasNonASCII = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw controlCharacterFailure(byte) }
                if byte >= 0x80 { runHasNonASCII = true }
                index += 1
            }
            if runHasNonASCII { try validateUTF8(runStart..<index) }
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
        }
        throw unterminatedString(opening)
    }

    /// Appends the character a backslash escape stands for to `scratch`.
    private mutating func parseEscape() throws {
        let escapeStart = index
        index += 1
        guard index < bytes.count else { throw failure("expected an escape character after '\\', found the end of the input") }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(letter)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4()
            switch unit {
            case 0xD800...0xDBFF:
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw JSONParseError(offset: escapeStart, reason: "\(hex(unit)) is a lone high surrogate: it must be followed by a low surrogate \\uDC00-\\uDFFF")
                }
                let lowStart = index
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONParseError(offset: lowStart, reason: "\(hex(unit)) is a high surrogate but \(hex(low)) after it is not a low surrogate \\uDC00-\\uDFFF")
                }
                appendUTF8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            case 0xDC00...0xDFFF:
                throw JSONParseError(offset: escapeStart, reason: "\(hex(unit)) is a lone low surrogate: it must follow a high surrogate \\uD800-\\uDBFF")
            default:
                appendUTF8(unit)
            }
        default:
            throw JSONParseError(offset: escapeStart, reason: "invalid escape \(found(at: escapeStart, length: 2)) in a string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw failure("expected 4 hex digits after \\u, found the end of the input") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("expected 4 hex digits after \\u, found \(found(at: index))")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Throws at the first byte of `range` that does not start or continue a well-formed
    /// UTF-8 sequence (Unicode 15, table 3-7: no overlong forms, surrogates or values past U+10FFFF).
    private func validateUTF8(_ range: Range<Int>) throws {
        var position = range.lowerBound
        while position < range.upperBound {
            let lead = bytes[position]
            if lead < 0x80 { position += 1; continue }
            let length: Int
            var secondLow: UInt8 = 0x80, secondHigh: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondLow = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondHigh = 0x9F
            case 0xF0: length = 4; secondLow = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondHigh = 0x8F
            default: throw JSONParseError(offset: position, reason: "invalid UTF-8 in a string: byte \(hex(lead)) cannot start a character")
            }
            for offset in 1..<length {
                let continuation = position + offset
                let low = offset == 1 ? secondLow : 0x80, high = offset == 1 ? secondHigh : 0xBF
                guard continuation < range.upperBound, (low...high).contains(bytes[continuation]) else {
                    throw JSONParseError(offset: position, reason: "invalid UTF-8 in a string: the \(length)-byte sequence starting with \(hex(lead)) is malformed")
                }
            }
            position += length
        }
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws -> JSONValue {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let integerStart = index
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw failure("expected a digit after '-', found \(found(at: index))")
        }
        if bytes[index] == UInt8(ascii: "0"), index + 1 < bytes.count, isDigit(bytes[index + 1]) {
            throw JSONParseError(offset: index, reason: "numbers cannot have leading zeros")
        }
        // Accumulate negatively so Int64.min fits; overflow falls back to a Double.
        var accumulated: Int64 = 0
        var overflowed = false
        while index < bytes.count, isDigit(bytes[index]) {
            if !overflowed {
                let (times10, o1) = accumulated.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.subtractingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                if o1 || o2 { overflowed = true } else { accumulated = next }
            }
            index += 1
        }
        let integerEnd = index
        var fractionRange = index..<index
        var exponent = 0
        var exponentIsHuge = false
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fractionStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > fractionStart else {
                throw failure("expected a digit after the decimal point, found \(found(at: index))")
            }
            fractionRange = fractionStart..<index
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            while index < bytes.count, isDigit(bytes[index]) {
                // Such a number is 0 or out of range; leave it to Double's parser.
                if exponent > 100_000 { exponentIsHuge = true } else { exponent = exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > exponentStart else {
                throw failure("expected a digit in the exponent, found \(found(at: index))")
            }
            if exponentNegative { exponent = -exponent }
        }

        if isInteger && !overflowed {
            if negative { return .int(accumulated) }
            if accumulated != .min { return .int(-accumulated) }
        }
        if !isInteger, !exponentIsHuge, let whole = exactWhole(negative: negative, integer: integerStart..<integerEnd,
                                                fraction: fractionRange, exponent: exponent) {
            return .int(whole)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw JSONParseError(offset: start, reason: "number \(text) is out of range for a 64-bit floating-point value")
        }
        if let whole = Int64(exactly: double) { return .int(whole) }
        return .double(double)
    }

    /// The value of a number written with a fraction or exponent, when it is exactly a whole
    /// number within Int64 (`1.0`, `2.5e2`, `9007199254740993.0`); nil otherwise.
    private func exactWhole(negative: Bool, integer: Range<Int>, fraction: Range<Int>, exponent: Int) -> Int64? {
        // The significant digits, integer part then fraction, as one sequence 0..<total.
        func digit(_ position: Int) -> UInt8 {
            let byte = position < integer.count ? bytes[integer.lowerBound + position]
                                                : bytes[fraction.lowerBound + position - integer.count]
            return byte - UInt8(ascii: "0")
        }
        let total = integer.count + fraction.count
        var first = 0, end = total
        while end > first, digit(end - 1) == 0 { end -= 1 }
        while first < end, digit(first) == 0 { first += 1 }
        if first == end { return 0 }
        // The value is digits[first..<end] × 10^scale.
        let scale = exponent - fraction.count + (total - end)
        guard scale >= 0, end - first + scale <= 19 else { return nil }
        var magnitude: UInt64 = 0
        for position in first..<end { magnitude = magnitude * 10 + UInt64(digit(position)) }
        for _ in 0..<scale {
            let (next, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            magnitude = next
        }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func failure(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

    private func controlCharacterFailure(_ byte: UInt8) -> JSONParseError {
        let escape: String
        switch byte {
        case 0x0A: escape = "\\n"
        case 0x0D: escape = "\\r"
        case 0x09: escape = "\\t"
        default: escape = "\\u00" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
        return failure("control character \(hex(UInt32(byte))) must be escaped inside a string (write \(escape))")
    }

    private func unterminatedString(_ opening: Int) -> JSONParseError {
        failure("unterminated string: the string starting at byte \(opening) has no closing '\"'")
    }

    /// What the input holds at `position`, for error messages.
    private func found(at position: Int, length: Int = 1) -> String {
        guard position < bytes.count else { return "the end of the input" }
        let end = min(bytes.count, position + length)
        let slice = bytes[position..<end]
        if slice.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return "'" + String(decoding: UnsafeBufferPointer(rebasing: slice), as: UTF8.self) + "'"
        }
        return "byte " + hex(UInt32(bytes[position]))
    }

    private func quoted(_ key: String) -> String {
        key.count > 40 ? "\"\(key.prefix(40))…\"" : "\"\(key)\""
    }

    private func hex(_ value: UInt8) -> String { hex(UInt32(value)) }

    private func hex(_ value: UInt32) -> String {
        value > 0xFF ? "\\u" + String(value, radix: 16, uppercase: true).leftPadded(to: 4)
                     : "0x" + String(value, radix: 16, uppercase: true).leftPadded(to: 2)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
