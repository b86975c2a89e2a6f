/// The SPDY/3.1 frames a port-forward session reads or writes, as spdystream lays them out. A
/// control frame's 8-byte header is `0x80 0x03` (control bit, version 3), the type, then one
/// byte of flags and a 24-bit length; a data frame's is the stream id (high bit clear), then
/// flags and length. All integers are big-endian.
enum SpdyFrame: Equatable, Sendable {
    case synStream(streamID: UInt32, associatedStreamID: UInt32, priority: UInt8, flags: SpdyFlags, headers: SpdyHeaderBlock)
    case synReply(streamID: UInt32, flags: SpdyFlags, headers: SpdyHeaderBlock)
    case rstStream(streamID: UInt32, status: SpdyResetStatus)
    /// Read and ignored: spdystream never sends it and nothing here depends on its values.
    case settings
    case ping(id: UInt32)
    case goAway(lastGoodStreamID: UInt32, status: SpdyGoAwayStatus)
    /// Unused by port-forward, but its block still advances the shared decompressor.
    case headers(streamID: UInt32, flags: SpdyFlags, headers: SpdyHeaderBlock)
    /// spdystream neither sends nor honours it: SPDY/3.1 flow control is not in play.
    case windowUpdate(streamID: UInt32, delta: UInt32)
    case data(streamID: UInt32, flags: SpdyFlags, payload: [UInt8])

    static let version: UInt16 = 3
    static let headerSize = 8
    /// The 24-bit length field's limit (spdystream's `MaxDataLength`).
    static let maximumLength = 0xFF_FFFF

    /// The frame as it goes out: one WebSocket message each, since the peer inflates a header
    /// block straight off its connection and expects the whole block in one read.
    /// `compressor` must see every outgoing header block, in the order the frames are written.
    func encoded(compressingWith compressor: SpdyHeaderCompressor) throws -> [UInt8] {
        switch self {
        case let .synStream(streamID, associatedStreamID, priority, flags, headers):
            var body: [UInt8] = []
            body.appendBigEndian(streamID & 0x7fff_ffff)
            body.appendBigEndian(associatedStreamID & 0x7fff_ffff)
            body.append(contentsOf: [priority << 5, 0])
            body.append(contentsOf: try compressor.compress(headers))
            return try Self.control(.synStream, flags: flags, body: body)
        case let .synReply(streamID, flags, headers):
            var body: [UInt8] = []
            body.appendBigEndian(streamID & 0x7fff_ffff)
            body.append(contentsOf: try compressor.compress(headers))
            return try Self.control(.synReply, flags: flags, body: body)
        case let .headers(streamID, flags, headers):
            var body: [UInt8] = []
            body.appendBigEndian(streamID & 0x7fff_ffff)
            body.append(contentsOf: try compressor.compress(headers))
            return try Self.control(.headers, flags: flags, body: body)
        case let .rstStream(streamID, status):
            return try Self.control(.rstStream, flags: [], words: [streamID & 0x7fff_ffff, status.rawValue])
        case .settings:
            return try Self.control(.settings, flags: [], words: [0])
        case let .ping(id):
            return try Self.control(.ping, flags: [], words: [id])
        case let .goAway(lastGoodStreamID, status):
            return try Self.control(.goAway, flags: [], words: [lastGoodStreamID & 0x7fff_ffff, status.rawValue])
        case let .windowUpdate(streamID, delta):
            return try Self.control(.windowUpdate, flags: [], words: [streamID & 0x7fff_ffff, delta & 0x7fff_ffff])
        case let .data(streamID, flags, payload):
            guard payload.count <= Self.maximumLength else { throw SpdyError.frameTooLarge(length: payload.count) }
            var frame: [UInt8] = []
            frame.reserveCapacity(Self.headerSize + payload.count)
            frame.appendBigEndian(streamID & 0x7fff_ffff)
            frame.appendBigEndian(UInt32(flags.rawValue) << 24 | UInt32(payload.count))
            frame.append(contentsOf: payload)
            return frame
        }
    }

    private static func control(_ type: SpdyControlType, flags: SpdyFlags, words: [UInt32]) throws -> [UInt8] {
        var body: [UInt8] = []
        for word in words { body.appendBigEndian(word) }
        return try control(type, flags: flags, body: body)
    }

    private static func control(_ type: SpdyControlType, flags: SpdyFlags, body: [UInt8]) throws -> [UInt8] {
        guard body.count <= maximumLength else { throw SpdyError.frameTooLarge(length: body.count) }
        var frame: [UInt8] = [0x80 | UInt8(version >> 8), UInt8(version & 0xff), UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xff)]
        frame.appendBigEndian(UInt32(flags.rawValue) << 24 | UInt32(body.count))
        frame.append(contentsOf: body)
        return frame
    }
}

/// Control frame types (SPDY/3 draft §2.6). Type 5 (NOOP) was SPDY/2's and is skipped as unknown.
enum SpdyControlType: UInt16 {
    case synStream = 1
    case synReply = 2
    case rstStream = 3
    case settings = 4
    case ping = 6
    case goAway = 7
    case headers = 8
    case windowUpdate = 9

    var name: String {
        switch self {
        case .synStream: return "SYN_STREAM"
        case .synReply: return "SYN_REPLY"
        case .rstStream: return "RST_STREAM"
        case .settings: return "SETTINGS"
        case .ping: return "PING"
        case .goAway: return "GOAWAY"
        case .headers: return "HEADERS"
        case .windowUpdate: return "WINDOW_UPDATE"
        }
    }
}

/// Frame flags: FIN half-closes the sender's side of a stream (on DATA, SYN_STREAM, SYN_REPLY,
/// HEADERS); UNIDIRECTIONAL, on SYN_STREAM only, says the receiver will not send on it.
struct SpdyFlags: OptionSet, Equatable, Sendable {
    let rawValue: UInt8

    static let fin = SpdyFlags(rawValue: 0x01)
    static let unidirectional = SpdyFlags(rawValue: 0x02)
}

/// RST_STREAM's status. A struct rather than an enum, so a peer's unknown status still reads.
struct SpdyResetStatus: RawRepresentable, Equatable, Sendable, CustomStringConvertible {
    let rawValue: UInt32

    static let protocolError = SpdyResetStatus(rawValue: 1)
    static let invalidStream = SpdyResetStatus(rawValue: 2)
    static let refusedStream = SpdyResetStatus(rawValue: 3)
    static let unsupportedVersion = SpdyResetStatus(rawValue: 4)
    /// What kubelet's `stream.Reset()` sends, and what kubectl expects for a refused stream.
    static let cancel = SpdyResetStatus(rawValue: 5)
    static let internalError = SpdyResetStatus(rawValue: 6)
    static let flowControlError = SpdyResetStatus(rawValue: 7)
    static let streamInUse = SpdyResetStatus(rawValue: 8)
    static let streamAlreadyClosed = SpdyResetStatus(rawValue: 9)
    static let invalidCredentials = SpdyResetStatus(rawValue: 10)
    static let frameTooLarge = SpdyResetStatus(rawValue: 11)

    var description: String { "RST_STREAM status \(rawValue)" }
}

/// GOAWAY's status.
struct SpdyGoAwayStatus: RawRepresentable, Equatable, Sendable {
    let rawValue: UInt32

    static let ok = SpdyGoAwayStatus(rawValue: 0)
    static let protocolError = SpdyGoAwayStatus(rawValue: 1)
    static let internalError = SpdyGoAwayStatus(rawValue: 2)
}
