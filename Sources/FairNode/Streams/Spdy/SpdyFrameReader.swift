/// Cuts a SPDY byte stream into frames. kubectl writes each field of a frame as its own
/// WebSocket message (a SYN_STREAM arrives as 8 messages, an empty DATA+FIN ends in an empty
/// one), so message boundaries mean nothing: pieces are appended as they come and a frame is
/// returned once all its bytes are here.
///
/// Header blocks are inflated as their frames complete, in stream order, through the session's
/// one decompressor. What is held is bounded by one frame (a 24-bit length: 16 MiB) plus the
/// piece that completed it.
struct SpdyFrameReader {
    private let decompressor: SpdyHeaderDecompressor
    private var pending: [UInt8] = []
    /// Where the next unread byte of `pending` is: consumed bytes are dropped in batches rather
    /// than shifting the buffer once per frame.
    private var start = 0

    init(decompressor: SpdyHeaderDecompressor) {
        self.decompressor = decompressor
    }

    /// Bytes received and not yet returned as a frame.
    var bufferedCount: Int { pending.count - start }

    mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        pending.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil until more bytes arrive. Control frames of unknown
    /// types are skipped by their length rather than ending the session.
    mutating func next() throws -> SpdyFrame? {
        while bufferedCount >= SpdyFrame.headerSize {
            var fields = SpdyByteCursor(pending, offset: start)
            let first = fields.readUInt32()!
            let flagsAndLength = fields.readUInt32()!
            let length = Int(flagsAndLength & 0xff_ffff)
            let flags = SpdyFlags(rawValue: UInt8(flagsAndLength >> 24))
            guard bufferedCount >= SpdyFrame.headerSize + length else { return nil }
            let bodyStart = start + SpdyFrame.headerSize
            consume(SpdyFrame.headerSize + length)

            if first & 0x8000_0000 == 0 {
                let payload = Array(pending[bodyStart..<bodyStart + length])
                compactIfWorthIt()
                return .data(streamID: first & 0x7fff_ffff, flags: flags, payload: payload)
            }
            // The version (bits 16-30) is not checked, as spdystream does not check it.
            let body = Array(pending[bodyStart..<bodyStart + length])
            compactIfWorthIt()
            guard let type = SpdyControlType(rawValue: UInt16(first & 0xffff)) else { continue }
            return try control(type, flags: flags, body: body)
        }
        return nil
    }

    private mutating func consume(_ count: Int) {
        start += count
    }

    /// Drops consumed bytes once they are all of the buffer (the common case: frames end on
    /// piece boundaries) or a sizeable share of it.
    private mutating func compactIfWorthIt() {
        if start == pending.count {
            pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20)
            start = 0
        } else if start >= 64 * 1024 && start * 2 >= pending.count {
            pending.removeFirst(start)
            start = 0
        }
    }

    private func control(_ type: SpdyControlType, flags: SpdyFlags, body: [UInt8]) throws -> SpdyFrame {
        var cursor = SpdyByteCursor(body)
        switch type {
        case .synStream:
            guard body.count >= 10 else { throw SpdyError.malformedFrame(type: type.name, length: body.count, expected: "at least 10") }
            let streamID = cursor.readUInt32()! & 0x7fff_ffff
            let associated = cursor.readUInt32()! & 0x7fff_ffff
            let priority = cursor.readUInt8()! >> 5
            _ = cursor.readUInt8()  // the credential slot, unused
            let headers = try decompressor.decompressHeaders(cursor.readBytes(cursor.remaining)!)
            guard streamID != 0 else { throw SpdyError.zeroField(type: type.name, field: "stream id") }
            return .synStream(streamID: streamID, associatedStreamID: associated, priority: priority, flags: flags, headers: headers)
        case .synReply, .headers:
            guard body.count >= 4 else { throw SpdyError.malformedFrame(type: type.name, length: body.count, expected: "at least 4") }
            let streamID = cursor.readUInt32()! & 0x7fff_ffff
            let headers = try decompressor.decompressHeaders(cursor.readBytes(cursor.remaining)!)
            return type == .synReply
                ? .synReply(streamID: streamID, flags: flags, headers: headers)
                : .headers(streamID: streamID, flags: flags, headers: headers)
        case .rstStream:
            guard body.count == 8 else { throw SpdyError.malformedFrame(type: type.name, length: body.count, expected: "8") }
            let streamID = cursor.readUInt32()! & 0x7fff_ffff
            let status = cursor.readUInt32()!
            guard streamID != 0 else { throw SpdyError.zeroField(type: type.name, field: "stream id") }
            guard status != 0 else { throw SpdyError.zeroField(type: type.name, field: "status") }
            return .rstStream(streamID: streamID, status: SpdyResetStatus(rawValue: status))
        case .settings:
            return .settings
        case .ping:
            guard body.count == 4 else { throw SpdyError.malformedFrame(type: type.name, length: body.count, expected: "4") }
            let id = cursor.readUInt32()!
            guard id != 0 else { throw SpdyError.zeroField(type: type.name, field: "id") }
            return .ping(id: id)
        case .goAway:
            guard body.count == 8 else { throw SpdyError.malformedFrame(type: type.name, length: body.count, expected: "8") }
            return .goAway(lastGoodStreamID: cursor.readUInt32()! & 0x7fff_ffff, status: SpdyGoAwayStatus(rawValue: cursor.readUInt32()!))
        case .windowUpdate:
            guard body.count == 8 else { throw SpdyError.malformedFrame(type: type.name, length: body.count, expected: "8") }
            return .windowUpdate(streamID: cursor.readUInt32()! & 0x7fff_ffff, delta: cursor.readUInt32()! & 0x7fff_ffff)
        }
    }
}
