import FairHTTPServer
import FairKube
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import WSCore
#if canImport(Glibc)
import Glibc
#endif

/// `attach` to a container's main process: its output from now on, as it is written (stdout on
/// channel 1, stderr on 2, or both on 1 for a terminal), until the container exits; then
/// Success, as kubelet ends an attach whose process ended. The node writes a container's output
/// to its log (CRI lines, each tagged with its stream) and gives containers no stdin, so the
/// attach follows the log from its end and the client's stdin is read and dropped.
struct AttachSession {
    let source: ContainerLogSource
    let stdout: Bool
    let stderr: Bool
    let tty: Bool
    let subprotocol: StreamSubprotocol
    var pollInterval: TimeInterval = 0.1

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let first: UInt8 = stdout ? StreamChannel.stdout : stderr ? StreamChannel.stderr : StreamChannel.error
        try? await outbound.write(.binary(ByteBuffer(bytes: [first])))
        let gone = NIOLockedValueBox(false)
        let input = Task {
            var reader = WebSocketMessageReader(inbound, maximumSize: ExecSession.maximumMessage)
            while (try? await reader.next()) != nil {}
            gone.withLockedValue { $0 = true }
        }
        let followed = await follow(outbound: outbound, clientGone: { gone.withLockedValue { $0 } })
        if followed, let payload = RemoteCommandStatus.success.payload(for: subprotocol) {
            try? await outbound.write(.binary(ByteBuffer(bytes: StreamChannel.frame(StreamChannel.error, payload))))
        }
        await PodStreamWebSocket.close(outbound, after: input)
    }

    /// Sends what the log gains until the container has exited and the file is drained; false
    /// when the client went away first.
    private func follow(outbound: WebSocketOutboundWriter, clientGone: () -> Bool) async -> Bool {
        guard let path = source.path else { return true }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return true }
        defer { close(descriptor) }
        var offset = Int64(lseek(descriptor, 0, SEEK_END))
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var exited = false
        while !Task.isCancelled {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            if count > 0 {
                offset += Int64(count)
                pending += buffer[..<count]
                guard let newline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let lines = pending[...newline]
                pending.removeFirst(newline + 1)
                for (channel, bytes) in route(lines) where !bytes.isEmpty {
                    do { try await outbound.write(.binary(ByteBuffer(bytes: StreamChannel.frame(channel, bytes)))) } catch { return false }
                }
                continue
            }
            if exited { return true }
            if !source.isRunning() {
                // Once more: the last lines may have landed after the read above.
                exited = true
                continue
            }
            try? await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
        return false
    }

    /// Whole log lines to the channels the client asked for, joined per channel, in order.
    private func route(_ lines: ArraySlice<UInt8>) -> [(UInt8, [UInt8])] {
        var out: [(UInt8, [UInt8])] = []
        for line in lines.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            let channel: UInt8?, content: [UInt8]
            if let parsed = CRILogFormat.parse(line) {
                let isError = parsed.stream == "stderr"
                channel = tty ? (stdout ? StreamChannel.stdout : nil)
                    : isError ? (stderr ? StreamChannel.stderr : nil) : (stdout ? StreamChannel.stdout : nil)
                content = Array(parsed.content) + (parsed.partial ? [] : [UInt8(ascii: "\n")])
            } else {
                channel = stdout ? StreamChannel.stdout : nil
                content = Array(line) + [UInt8(ascii: "\n")]
            }
            guard let channel else { continue }
            if let last = out.last, last.0 == channel, last.1.count + content.count <= ExecSession.chunkSize {
                out[out.count - 1].1 += content
            } else {
                out.append((channel, content))
            }
        }
        return out
    }
}
