import Foundation

/// Where each regular file's bytes sit inside an uncompressed tar, so a blob of an oci-archive can
/// be uploaded as a byte range of the archive file itself, without being copied out first.
/// libarchive streams entry data but does not expose its file offsets, hence this small reader of
/// tar headers: ustar/v7 names with prefix, pax extended headers (`path`, `size`) and GNU long
/// names, octal and base-256 sizes. Anything it does not understand is an error, never a guess.
public struct TarIndex: Sendable {
    public struct Range: Sendable, Equatable {
        public var offset: Int64
        public var size: Int64
    }

    public private(set) var files: [String: Range] = [:]

    public static func scan(path: String) throws -> TarIndex {
        let file = try ReadableFile(path: path)
        var index = TarIndex()
        var position: Int64 = 0
        var header = [UInt8](repeating: 0, count: 512)
        var pendingPath: String?
        var pendingSize: Int64?
        var zeroBlocks = 0

        func readExactly(_ count: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var filled = 0
            try bytes.withUnsafeMutableBytes { buffer in
                while filled < count {
                    let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                    if n == 0 { break }
                    filled += n
                }
            }
            guard filled == count else { throw ArchiveError.unsafeEntry(path: path, reason: "truncated tar archive") }
            return bytes
        }

        while true {
            let got = try header.withUnsafeMutableBytes { buffer -> Int in
                var filled = 0
                while filled < 512 {
                    let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                    if n == 0 { break }
                    filled += n
                }
                return filled
            }
            if got == 0 { break }
            guard got == 512 else { throw ArchiveError.unsafeEntry(path: path, reason: "truncated tar header") }
            position += 512
            if header.allSatisfy({ $0 == 0 }) {
                zeroBlocks += 1
                if zeroBlocks == 2 { break }
                continue
            }
            zeroBlocks = 0
            guard verifyChecksum(header) else {
                throw ArchiveError.unsafeEntry(path: path, reason: "bad tar header checksum at offset \(position - 512)")
            }
            let type = header[156]
            var size = try parseNumber(header[124..<136], path: path)
            if let override = pendingSize, type != UInt8(ascii: "x"), type != UInt8(ascii: "L") { size = override }
            let padded = (size + 511) / 512 * 512

            switch type {
            case UInt8(ascii: "x"):
                let records = try readExactly(Int(size))
                _ = try readExactly(Int(padded - size))
                position += padded
                for (key, value) in parsePax(records) {
                    if key == "path" { pendingPath = value }
                    if key == "size", let number = Int64(value) { pendingSize = number }
                }
                continue
            case UInt8(ascii: "L"):
                let name = try readExactly(Int(size))
                _ = try readExactly(Int(padded - size))
                position += padded
                pendingPath = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "g"):
                // Global pax headers carry nothing fair needs; skip their data.
                _ = try readExactly(Int(padded))
                position += padded
                continue
            default:
                break
            }

            let name = pendingPath ?? ustarName(header)
            pendingPath = nil
            pendingSize = nil
            if type == UInt8(ascii: "0") || type == 0 {
                index.files[normalise(name)] = Range(offset: position, size: size)
            }
            // Skip the entry's data without reading it.
            if padded > 0 {
                try file.seek(to: position + padded)
                position += padded
            }
        }
        return index
    }

    private static func normalise(_ name: String) -> String {
        var name = Substring(name)
        while name.hasPrefix("./") { name = name.dropFirst(2) }
        while name.hasPrefix("/") { name = name.dropFirst() }
        return String(name)
    }

    private static func field(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func ustarName(_ header: [UInt8]) -> String {
        let name = field(header[0..<100])
        let magic = field(header[257..<263])
        let prefix = magic.hasPrefix("ustar") ? field(header[345..<500]) : ""
        return prefix.isEmpty ? name : "\(prefix)/\(name)"
    }

    private static func parseNumber(_ bytes: ArraySlice<UInt8>, path: String) throws -> Int64 {
        if let first = bytes.first, first & 0x80 != 0 {
            // base-256: big-endian binary, first byte's top bit set
            var value: Int64 = Int64(first & 0x7f)
            for byte in bytes.dropFirst() { value = value << 8 | Int64(byte) }
            return value
        }
        let text = field(bytes).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let value = Int64(text, radix: 8) else {
            throw ArchiveError.unsafeEntry(path: path, reason: "bad tar size field \"\(text)\"")
        }
        return value
    }

    private static func verifyChecksum(_ header: [UInt8]) -> Bool {
        let stored = Int(field(header[148..<156]).trimmingCharacters(in: .whitespaces), radix: 8)
        var sum = 0
        for (i, byte) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(byte) }
        return stored == sum
    }

    /// pax records: "<length> <key>=<value>\n".
    private static func parsePax(_ bytes: [UInt8]) -> [(String, String)] {
        var records: [(String, String)] = []
        var index = 0
        while index < bytes.count {
            guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)), length > 0,
                  index + length <= bytes.count else { break }
            let record = bytes[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records.append((String(decoding: record[..<equals], as: UTF8.self),
                                String(decoding: record[(equals + 1)...], as: UTF8.self)))
            }
            index += length
        }
        return records
    }
}
