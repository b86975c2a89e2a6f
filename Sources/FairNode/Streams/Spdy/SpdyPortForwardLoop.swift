import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The server side of one SPDY port-forward session, as one loop over its events: the client's
/// messages, and what dials, pumps and timers report. Everything the session knows (streams,
/// pairs, the header decompressor) is touched by this loop alone, so none of it needs a lock.
///
/// The loop waits for each write to the pod and each frame it sends: a slow pod or a slow
/// client holds back the whole session rather than filling memory, as spdystream does.
final class SpdyPortForwardLoop {
    enum Event: Sendable {
        /// Resumed with true once the message is handled, false when the session takes no more.
        case message([UInt8], handled: CheckedContinuation<Bool, Never>)
        case inputEnded
        case dialed(pair: Int)
        case podEnded(pair: Int)
        case pairingTimedOut(pair: Int)
        case lingerEnded(pair: Int)
    }

    enum Ending: Equatable {
        /// The WebSocket closed or failed.
        case clientLeft
        /// GOAWAY: the client is done with the session.
        case clientWentAway
        case protocolError(SpdyError)
    }

    let events: AsyncStream<Event>
    let eventSink: AsyncStream<Event>.Continuation

    private let podIP: String
    private let podName: String
    private let podUID: String
    private let writer: SpdyFrameWriter
    private var frames: SpdyFrameReader
    private var pairs: [Int: SpdyForwardPair] = [:]
    /// Pairs still missing a stream, by request id (a complete pair's id may be used again).
    private var unpaired: [String: Int] = [:]
    private var streams: [UInt32: (pair: Int, kind: SpdyPortForwardStream.Kind)] = [:]
    private var nextSerial = 0
    /// The lowest id a new client stream may have: ids are odd and only go up.
    private var nextStreamID: UInt32 = 1
    private var lastStreamID: UInt32 = 0
    /// Writes to pods wait off the async pool, one at a time.
    private let socketWrites = DispatchQueue(label: "fair.portforward.spdy.send")

    init(podIP: String, podName: String, podUID: String, writer: SpdyFrameWriter) throws {
        self.podIP = podIP
        self.podName = podName
        self.podUID = podUID
        self.writer = writer
        frames = SpdyFrameReader(decompressor: try SpdyHeaderDecompressor())
        (events, eventSink) = AsyncStream<Event>.makeStream()
    }

    /// Serves until the client leaves or breaks the protocol, then closes every pod connection.
    func run() async -> Ending {
        var iterator = events.makeAsyncIterator()
        var ending = Ending.clientLeft
        serving: while let event = await iterator.next() {
            switch event {
            case let .message(bytes, handled):
                let outcome = await receive(bytes)
                handled.resume(returning: outcome == nil)
                if let outcome {
                    ending = outcome
                    break serving
                }
            case .inputEnded:
                break serving
            case let .dialed(serial):
                await applyDial(serial)
            case let .podEnded(serial):
                await podEnded(serial)
            case let .pairingTimedOut(serial):
                await pairingTimedOut(serial)
            case let .lingerEnded(serial):
                if pairs[serial]?.closing == false { await complete(serial) }
            }
        }
        eventSink.finish()
        // A reader still waiting on its message is told to stop delivering.
        while let event = await iterator.next() {
            if case let .message(_, handled) = event { handled.resume(returning: false) }
        }
        await tearDown(after: ending)
        return ending
    }

    // MARK: Frames

    private func receive(_ bytes: [UInt8]) async -> Ending? {
        frames.append(bytes)
        do {
            while let frame = try frames.next() {
                if let ending = await handle(frame) { return ending }
            }
        } catch let error as SpdyError {
            return .protocolError(error)
        } catch {
            return .protocolError(.headerCompression("\(error)"))
        }
        return nil
    }

    private func handle(_ frame: SpdyFrame) async -> Ending? {
        switch frame {
        case let .synStream(streamID, _, _, flags, headers):
            await open(streamID, flags: flags, headers: headers)
        case let .data(streamID, flags, payload):
            await receiveData(on: streamID, flags: flags, payload: payload)
        case let .rstStream(streamID, _):
            await streamReset(streamID)
        case let .ping(id):
            // The client's pings have odd ids and are echoed unchanged; an even one would be
            // the echo of a ping of ours, and we send none.
            if id & 1 == 1 { await writer.send(.ping(id: id)) }
        case .goAway:
            return .clientWentAway
        case .synReply, .headers, .settings, .windowUpdate:
            break
        }
        return nil
    }

    // MARK: Streams and pairs

    private func open(_ streamID: UInt32, flags: SpdyFlags, headers: SpdyHeaderBlock) async {
        guard streamID & 1 == 1, streamID >= nextStreamID else {
            await writer.send(.rstStream(streamID: streamID, status: .protocolError))
            return
        }
        nextStreamID = streamID + 2
        lastStreamID = streamID
        let request: SpdyPortForwardStream
        do {
            request = try SpdyPortForwardStream(id: streamID, headers: headers)
        } catch {
            await writer.send(.rstStream(streamID: streamID, status: .cancel))
            return
        }
        // Replied before pairing: kubectl opens the data stream only once the error stream is
        // replied, and drops data on a stream that has no reply.
        await writer.send(.synReply(streamID: streamID, flags: [], headers: SpdyHeaderBlock()))

        let serial = unpaired[request.requestID] ?? newPair(requestID: request.requestID)
        guard var pair = pairs[serial] else { return }
        let taken = request.kind == .error ? pair.errorStream != nil : pair.dataStream != nil
        if taken {
            let message = "error processing stream for request \(request.requestID): \(request.kind.rawValue) stream already assigned"
            if let errorStream = pair.errorStream, !pair.errorReset {
                await writer.send(.data(streamID: errorStream, flags: [], payload: Array(message.utf8)))
            }
            await writer.send(.rstStream(streamID: streamID, status: .cancel))
            return
        }
        switch request.kind {
        case .error:
            pair.errorStream = streamID
        case .data:
            pair.dataStream = streamID
            pair.port = request.port
            pair.clientFinished = flags.contains(.fin)
        }
        streams[streamID] = (serial, request.kind)
        if pair.isComplete {
            unpaired[request.requestID] = nil
            pair.pairingTimer?.cancel()
            pair.dial = dial(port: pair.port, for: serial)
        }
        pairs[serial] = pair
    }

    private func newPair(requestID: String) -> Int {
        let serial = nextSerial
        nextSerial += 1
        var pair = SpdyForwardPair(serial: serial, requestID: requestID)
        let sink = eventSink
        pair.pairingTimer = Task {
            guard (try? await Task.sleep(for: SpdyForwardPair.pairingTimeout)) != nil else { return }
            sink.yield(.pairingTimedOut(pair: serial))
        }
        pairs[serial] = pair
        unpaired[requestID] = serial
        return serial
    }

    /// Connects to the pod on a thread of its own (connect blocks), and reports back.
    private func dial(port: UInt16, for serial: Int) -> Task<Result<PodConnection, PodConnection.DialError>, Never> {
        let address = podIP
        let sink = eventSink
        return Task {
            let result = await ExecSession.blocking { () -> Result<PodConnection, PodConnection.DialError> in
                do {
                    return .success(try PodConnection(address: address, port: port, channel: 0))
                } catch let error as PodConnection.DialError {
                    return .failure(error)
                } catch {
                    return .failure(PodConnection.DialError(description: "\(error)"))
                }
            }
            sink.yield(.dialed(pair: serial))
            return result
        }
    }

    /// Acts on the dial's outcome, once (it is awaited both by its own event and by data that
    /// arrives while it is under way).
    private func applyDial(_ serial: Int) async {
        guard let dial = pairs[serial]?.dial, pairs[serial]?.dialApplied == false else { return }
        let result = await dial.value
        guard var pair = pairs[serial] else {
            if case let .success(connection) = result { connection.close() }
            return
        }
        pair.dialApplied = true
        switch result {
        case let .success(connection):
            pair.connection = connection
            pairs[serial] = pair
            if pair.closing {
                await complete(serial)
                return
            }
            if !pair.earlyInput.isEmpty {
                pairs[serial]?.earlyInput = []
                if !(await write(pair.earlyInput, to: connection)) { pairs[serial]?.podRefusesInput = true }
            }
            if pair.clientFinished { _ = Glibc.shutdown(connection.socket, Int32(SHUT_WR)) }
            guard let dataStream = pair.dataStream else { return }
            let sink = eventSink
            let pump = SpdyDataPump(socket: connection.socket, streamID: dataStream, writer: writer) {
                sink.yield(.podEnded(pair: serial))
            }
            pairs[serial]?.pump = pump
            pump.start()
        case let .failure(error):
            pairs[serial] = pair
            let message = "error forwarding port \(pair.port) to pod \(podName), uid \(podUID): \(error)"
            if let errorStream = pair.errorStream, !pair.errorReset {
                await writer.send(.data(streamID: errorStream, flags: [], payload: Array(message.utf8)))
            }
            await complete(serial)
        }
    }

    private func receiveData(on streamID: UInt32, flags: SpdyFlags, payload: [UInt8]) async {
        // Data on a stream that is gone (reset, or its pair ended) is dropped, as spdystream does.
        guard let (serial, kind) = streams[streamID], kind == .data else { return }
        if !payload.isEmpty { await forward(payload, for: serial) }
        guard flags.contains(.fin), var pair = pairs[serial], !pair.clientFinished else { return }
        pair.clientFinished = true
        pairs[serial] = pair
        // A half-close rather than containerd's close: a server that reads to EOF before it
        // answers (HTTP/1.0 style, `nc -N`) still gets to answer.
        if let connection = pair.connection { _ = Glibc.shutdown(connection.socket, Int32(SHUT_WR)) }
        if pair.pumpEnded { await complete(serial) }
    }

    private func forward(_ payload: [UInt8], for serial: Int) async {
        if pairs[serial]?.isDialing == true { await applyDial(serial) }
        guard let pair = pairs[serial], !pair.closing, !pair.clientFinished, !pair.podRefusesInput else { return }
        if let connection = pair.connection {
            if !(await write(payload, to: connection)) { pairs[serial]?.podRefusesInput = true }
        } else if pair.dial == nil {
            // Still missing its error stream: held, within bounds.
            guard pair.earlyInput.count + payload.count <= SpdyForwardPair.maximumEarlyInput else {
                if let dataStream = pair.dataStream {
                    await writer.send(.rstStream(streamID: dataStream, status: .flowControlError))
                    streams[dataStream] = nil
                }
                pairs[serial]?.dataReset = true
                await beginClosing(serial)
                return
            }
            pairs[serial]?.earlyInput.append(contentsOf: payload)
        }
    }

    private func streamReset(_ streamID: UInt32) async {
        guard let (serial, kind) = streams.removeValue(forKey: streamID), pairs[serial] != nil else { return }
        switch kind {
        case .data: pairs[serial]?.dataReset = true
        case .error: pairs[serial]?.errorReset = true
        }
        await beginClosing(serial)
    }

    private func pairingTimedOut(_ serial: Int) async {
        guard let pair = pairs[serial], !pair.isComplete, !pair.closing else { return }
        if let errorStream = pair.errorStream, !pair.errorReset {
            let message = "(request=\(pair.requestID)) timed out waiting for streams"
            await writer.send(.data(streamID: errorStream, flags: [], payload: Array(message.utf8)))
        }
        await complete(serial)
    }

    private func podEnded(_ serial: Int) async {
        guard var pair = pairs[serial] else { return }
        pair.pumpEnded = true
        if pair.closing || pair.clientFinished {
            pairs[serial] = pair
            await complete(serial)
            return
        }
        let sink = eventSink
        pair.lingerTimer = Task {
            guard (try? await Task.sleep(for: SpdyForwardPair.lingerAfterPodEnd)) != nil else { return }
            sink.yield(.lingerEnded(pair: serial))
        }
        pairs[serial] = pair
    }

    /// Ends the pair as soon as nothing of it is still running: a pump is stopped (its socket
    /// shut down wakes its read) and reports back; a dial under way reports when it returns.
    private func beginClosing(_ serial: Int) async {
        guard var pair = pairs[serial], !pair.closing else { return }
        pair.closing = true
        pair.pairingTimer?.cancel()
        pair.lingerTimer?.cancel()
        pairs[serial] = pair
        if let pump = pair.pump, !pair.pumpEnded {
            pump.stop(sendingFin: !pair.dataReset)
            pair.connection?.shutDown()
            return
        }
        if pair.isDialing { return }
        await complete(serial)
    }

    /// Drops the pair: its pump has ended or never ran, so the socket can be closed. The data
    /// stream gets a FIN if no pump sent one; the error stream always does, since kubectl waits
    /// for it before it takes the next connection's outcome as settled.
    private func complete(_ serial: Int) async {
        guard let pair = pairs.removeValue(forKey: serial) else { return }
        pair.pairingTimer?.cancel()
        pair.lingerTimer?.cancel()
        if unpaired[pair.requestID] == serial { unpaired[pair.requestID] = nil }
        for streamID in [pair.errorStream, pair.dataStream].compactMap({ $0 }) where streams[streamID]?.pair == serial {
            streams[streamID] = nil
        }
        pair.connection?.close()
        if pair.pump == nil, let dataStream = pair.dataStream, !pair.dataReset {
            await writer.send(.data(streamID: dataStream, flags: .fin, payload: []))
        }
        if let errorStream = pair.errorStream, !pair.errorReset {
            await writer.send(.data(streamID: errorStream, flags: .fin, payload: []))
        }
    }

    private func write(_ bytes: [UInt8], to connection: PodConnection) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            socketWrites.async { continuation.resume(returning: connection.send(bytes)) }
        }
    }

    // MARK: Ending

    /// Closes every pod connection. Streams need no frames of their own: the client has gone, or
    /// is told the session is over.
    private func tearDown(after ending: Ending) async {
        if case .protocolError = ending {
            await writer.send(.goAway(lastGoodStreamID: lastStreamID, status: .protocolError))
        }
        var pumps: [(SpdyDataPump, PodConnection)] = []
        for (_, pair) in pairs {
            pair.pairingTimer?.cancel()
            pair.lingerTimer?.cancel()
            if let pump = pair.pump, let connection = pair.connection, !pair.pumpEnded {
                pump.stop(sendingFin: false)
                connection.shutDown()
                pumps.append((pump, connection))
            } else if pair.isDialing, let dial = pair.dial {
                // connect cannot be interrupted: whatever it returns is closed when it does.
                Task {
                    if case let .success(connection) = await dial.value { connection.close() }
                }
            } else {
                pair.connection?.close()
            }
        }
        pairs = [:]
        unpaired = [:]
        streams = [:]
        // A pump waiting on a write to a client that has gone is released.
        writer.abandon()
        for (pump, connection) in pumps {
            await pump.finished()
            connection.close()
        }
        await writer.finish()
    }
}
