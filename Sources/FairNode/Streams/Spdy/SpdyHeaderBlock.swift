/// The headers of a SYN_STREAM, SYN_REPLY or HEADERS frame before compression: a 32-bit pair
/// count, then each name and value behind a 32-bit length (all big-endian). Names are lower
/// case and unique, as spdystream's reader insists; several values of one name travel joined by
/// NUL.
struct SpdyHeaderBlock: Equatable, Sendable {
    struct Field: Equatable, Sendable {
        var name: String
        var value: String
    }

    private(set) var fields: [Field]

    init(_ pairs: KeyValuePairs<String, String> = [:]) {
        fields = pairs.map { Field(name: $0.key.lowercased(), value: $0.value) }
    }

    private init(fields: [Field]) {
        self.fields = fields
    }

    /// The value of `name` (lower case), or its first value where several are joined by NUL,
    /// as Go's `Header.Get` reads it.
    subscript(name: String) -> String? {
        guard let value = fields.first(where: { $0.name == name })?.value else { return nil }
        return String(value.prefix { $0 != "\u{0}" })
    }

    /// The uncompressed block; names are lowercased on the way out, as spdystream's writer does.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(UInt32(fields.count))
        for field in fields {
            for text in [field.name.lowercased(), field.value] {
                let utf8 = Array(text.utf8)
                bytes.appendBigEndian(UInt32(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }
        return bytes
    }

    /// Reads an inflated block. An empty block reads as no headers: only a peer that sends no
    /// header block at all produces one, and the streams it opens are then refused for their
    /// missing headers rather than failing the whole session.
    static func decode(_ bytes: [UInt8]) throws -> SpdyHeaderBlock {
        guard !bytes.isEmpty else { return SpdyHeaderBlock(fields: []) }
        var cursor = SpdyByteCursor(bytes)
        guard let count = cursor.readUInt32() else { throw SpdyError.truncatedHeaderBlock }
        // Each pair takes at least its two lengths: a count beyond that is a lie, and must not
        // size an allocation.
        guard Int(count) <= cursor.remaining / 8 else { throw SpdyError.truncatedHeaderBlock }
        var fields: [Field] = []
        fields.reserveCapacity(Int(count))
        var seen = Set<String>()
        for _ in 0..<count {
            guard let name = cursor.readLengthPrefixed(), let value = cursor.readLengthPrefixed() else {
                throw SpdyError.truncatedHeaderBlock
            }
            let nameText = String(decoding: name, as: UTF8.self)
            guard !name.contains(where: { (0x41...0x5a).contains($0) }) else { throw SpdyError.upperCaseHeaderName(nameText) }
            guard seen.insert(nameText).inserted else { throw SpdyError.duplicateHeaderName(nameText) }
            fields.append(Field(name: nameText, value: String(decoding: value, as: UTF8.self)))
        }
        return SpdyHeaderBlock(fields: fields)
    }
}
