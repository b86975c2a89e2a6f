/// Why a SPDY session cannot go on. Every case but `compressorUnavailable` is the peer breaking
/// the protocol: the frames or the shared header-compression stream can no longer be trusted,
/// so the session ends (GOAWAY with PROTOCOL_ERROR) rather than guessing at the rest.
enum SpdyError: Error, Equatable, CustomStringConvertible {
    /// A frame shorter or longer than its type's fixed layout.
    case malformedFrame(type: String, length: Int, expected: String)
    /// A frame field that must not be zero was (a stream id, a ping id, a reset status).
    case zeroField(type: String, field: String)
    /// A header block inflated past `limit` bytes: a peer can compress megabytes of zeros
    /// into a few bytes, so the inflated size is capped.
    case headerBlockTooLarge(limit: Int)
    /// zlib refused a header block (corrupt data, a different dictionary, an ended stream).
    case headerCompression(String)
    /// An inflated header block whose counts or lengths run past its end.
    case truncatedHeaderBlock
    case upperCaseHeaderName(String)
    case duplicateHeaderName(String)
    /// An outgoing frame whose payload does not fit SPDY's 24-bit length.
    case frameTooLarge(length: Int)
    /// zlib could not set up a stream (out of memory); not the peer's fault.
    case compressorUnavailable(String)

    var description: String {
        switch self {
        case let .malformedFrame(type, length, expected):
            return "SPDY \(type) frame of \(length) bytes: it must be \(expected)"
        case let .zeroField(type, field):
            return "SPDY \(type) frame with \(field) 0"
        case let .headerBlockTooLarge(limit):
            return "a SPDY header block inflates to more than \(limit) bytes"
        case let .headerCompression(reason):
            return "SPDY header block could not be inflated: \(reason)"
        case .truncatedHeaderBlock:
            return "SPDY header block ends inside a name or value"
        case let .upperCaseHeaderName(name):
            return "SPDY header name \"\(name)\" is not lower case"
        case let .duplicateHeaderName(name):
            return "SPDY header \"\(name)\" appears twice"
        case let .frameTooLarge(length):
            return "a SPDY frame of \(length) bytes is larger than the protocol's 16 MiB"
        case let .compressorUnavailable(reason):
            return "SPDY header compression could not start: \(reason)"
        }
    }
}
