import NIOCore

/// Joins two TCP channels into one stream each way, as kube-proxy's userspace mode and every
/// NIO proxy do: what one side reads the other writes. Back-pressure is by writability: a side
/// whose partner cannot take more stops reading until it can, so a slow reader holds at most
/// the channels' write buffers (64 KiB high-water mark), never a whole stream. A half-close
/// (a client that shuts down its output once its request is sent) reaches the partner as its
/// own output shutdown; the pair closes when both directions have ended or either side fails.
///
/// NIO has no glue handler as a library (its examples carry one each); this is that shape.
final class TCPGlueHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: TCPGlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var inputClosed = false
    private var outputClosed = false

    private init() {}

    /// Two handlers that know each other; add one to each channel (both on one event loop).
    static func matchedPair() -> (TCPGlueHandler, TCPGlueHandler) {
        let first = TCPGlueHandler(), second = TCPGlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    // MARK: - From this side to the partner

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerClose()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            inputClosed = true
            partner?.partnerShutdownOutput()
            closeIfBothEnded()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    /// Reads only while the partner can take what is read.
    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    // MARK: - What the partner asks of this side

    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerWrite(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private func partnerShutdownOutput() {
        guard !outputClosed else { return }
        outputClosed = true
        closeAfterPendingWrites(mode: .output)
        closeIfBothEnded()
    }

    private func partnerClose() {
        closeAfterPendingWrites(mode: .all)
    }

    /// Closes once everything already written has reached the socket. NIO fails the writes
    /// still queued when a channel closes, and escalates an output shutdown to a full close when
    /// the input has already ended, so closing at once would cut the end off a stream whose far
    /// side finished first. An empty write completes after every write before it.
    private func closeAfterPendingWrites(mode: CloseMode) {
        guard let context else { return }
        let channel = context.channel
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0)), promise: written)
        written.futureResult.whenComplete { _ in channel.close(mode: mode, promise: nil) }
    }

    private func partnerBecameWritable() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }

    /// A side is done once its peer has ended its stream and this side has ended the partner's.
    private func closeIfBothEnded() {
        guard inputClosed, outputClosed else { return }
        closeAfterPendingWrites(mode: .all)
    }
}
