import Foundation

/// Base64url without padding (RFC 4648 §5, as JWTs and fair's registry tokens write it).
/// Foundation's base64 with the two letters swapped byte by byte: every token issued or read
/// passes here, so no string searching.
public enum Base64URL {
    public static func encode(_ data: Data) -> String {
        var bytes = [UInt8](data.base64EncodedData())
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "+"): bytes[index] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): bytes[index] = UInt8(ascii: "_")
            default: break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// nil for text that is not unpadded base64url (padding included: a JWT never has it).
    public static func decode<Text: StringProtocol>(_ text: Text) -> Data? {
        var bytes = [UInt8](text.utf8)
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "/"): return nil
            case UInt8(ascii: "-"): bytes[index] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): bytes[index] = UInt8(ascii: "/")
            default: break
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes))
    }
}
