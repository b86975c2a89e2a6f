import NIOCore
import WSCore

/// Whole WebSocket messages as bytes, whatever their opcode: Kubernetes' stream protocols
/// carry bytes in binary and text messages alike (older Python clients send stdin as text),
/// so text is not decoded as UTF-8. Fragments are joined; a message larger than `maximumSize`
/// ends the stream with an error rather than growing without bound.
public struct WebSocketMessageReader {
    public struct TooLarge: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "a WebSocket message is larger than \(limit) bytes" }
    }

    private var frames: WebSocketInboundStream.AsyncIterator
    private let maximumSize: Int

    public init(_ inbound: WebSocketInboundStream, maximumSize: Int) {
        frames = inbound.makeAsyncIterator()
        self.maximumSize = maximumSize
    }

    /// The next message; nil once the peer closed.
    public mutating func next() async throws -> [UInt8]? {
        var message: [UInt8] = []
        while let frame = try await frames.next() {
            guard message.count + frame.data.readableBytes <= maximumSize else { throw TooLarge(limit: maximumSize) }
            message.append(contentsOf: frame.data.readableBytesView)
            if frame.fin { return message }
        }
        return nil
    }
}
