/// What a client's SYN_STREAM asks for in port-forward (`portforward.k8s.io`): each forwarded
/// connection opens an error stream and a data stream, both naming the remote port and tied
/// together by a request id. Header names as kubectl sends them (Go's `streamType`, `port`,
/// `requestID`, lowercased on the wire).
struct SpdyPortForwardStream: Equatable {
    enum Kind: String {
        case error
        case data
    }

    let id: UInt32
    let kind: Kind
    let port: UInt16
    /// The pair this stream belongs to.
    let requestID: String

    /// Why kubelet refuses a stream (`httpStreamReceived`): it is reset, never replied to.
    struct Refusal: Error, Equatable, CustomStringConvertible {
        let description: String
    }

    init(id: UInt32, headers: SpdyHeaderBlock) throws {
        guard let portText = headers["port"], !portText.isEmpty else { throw Refusal(description: "\"port\" header is required") }
        // Decimal digits only, as Go's ParseUint reads it (no sign, no spaces).
        guard portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let port = UInt16(portText) else {
            throw Refusal(description: "unable to parse \"\(portText)\" as a port")
        }
        guard port > 0 else { throw Refusal(description: "port \"\(portText)\" must be > 0") }
        guard let typeText = headers["streamtype"], !typeText.isEmpty else { throw Refusal(description: "\"streamType\" header is required") }
        guard let kind = Kind(rawValue: typeText) else { throw Refusal(description: "invalid stream type \"\(typeText)\"") }
        self.id = id
        self.kind = kind
        self.port = port
        // Clients older than request ids open error then data streams back to back: kubelet
        // pairs them by id (the error stream's own, the data stream's less 2), best effort.
        if let requestID = headers["requestid"], !requestID.isEmpty {
            self.requestID = requestID
        } else {
            self.requestID = String(kind == .error ? Int64(id) : Int64(id) - 2)
        }
    }
}
