/// A terminal size the client asked for (`remotecommand.TerminalSize`; Go's field names,
/// capitalised, because the struct has no JSON tags).
public struct TerminalSize: Equatable, Sendable {
    public var width: UInt16
    public var height: UInt16
    public init(width: UInt16, height: UInt16) { self.width = width; self.height = height }
}

/// Channel 4's bytes turned into sizes. It is a stream of concatenated JSON objects, not one per
/// message or line: kubectl's `json.Encoder` ends each with a newline, the Python client
/// writes none, and a message may split or join objects. Bounded: an object that grows past
/// `maximumPending` bytes without closing is thrown away with what was pending.
public struct TerminalSizeStream {
    public static let maximumPending = 4096
    private var pending: [UInt8] = []

    public init() {}

    /// The sizes completed by `bytes`, oldest first; malformed objects are skipped.
    public mutating func feed(_ bytes: [UInt8]) -> [TerminalSize] {
        var sizes: [TerminalSize] = []
        for byte in bytes {
            if pending.isEmpty && byte != UInt8(ascii: "{") { continue }
            pending.append(byte)
            // Sizes hold only numbers, so the first closing brace ends the object.
            if byte == UInt8(ascii: "}") {
                if let size = Self.size(pending) { sizes.append(size) }
                pending.removeAll(keepingCapacity: true)
            } else if pending.count > Self.maximumPending {
                pending.removeAll()
            }
        }
        return sizes
    }

    private static func size(_ object: [UInt8]) -> TerminalSize? {
        guard let json = try? JSONCoding.decode(object),
              let width = json["Width"]?.intValue, let height = json["Height"]?.intValue,
              let w = UInt16(exactly: width), let h = UInt16(exactly: height)
        else { return nil }
        return TerminalSize(width: w, height: h)
    }
}
