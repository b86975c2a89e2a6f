import CZlib

/// An 8-bit RGB image as PNG (signature, IHDR, one zlib-compressed IDAT with filter 0 on each
/// row, IEND; each chunk with its CRC-32), with zlib doing the compression and the checksums.
enum PNGEncoder {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func encode(width: Int, height: Int, rgb: [UInt8]) throws -> [UInt8] {
        precondition(rgb.count == width * height * 3)
        var raw = [UInt8]()
        raw.reserveCapacity((width * 3 + 1) * height)
        for row in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgb[(row * width * 3)..<((row + 1) * width * 3)])
        }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compress2(&compressed, &compressedSize, raw, uLong(raw.count), 9)
        guard status == Z_OK else { throw Failure(description: "PNG: zlib compress2 failed (\(status))") }
        compressed.removeSubrange(Int(compressedSize)...)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8 bits per sample, truecolour, deflate, filter 0, no interlace
        append(chunk: "IHDR", header, to: &png)
        append(chunk: "IDAT", compressed, to: &png)
        append(chunk: "IEND", [], to: &png)
        return png
    }

    private static func append(chunk type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typed = Array(type.utf8) + data
        png += bigEndian(UInt32(data.count)) + typed
        png += bigEndian(UInt32(truncatingIfNeeded: crc32(0, typed, uInt(typed.count))))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }
}
