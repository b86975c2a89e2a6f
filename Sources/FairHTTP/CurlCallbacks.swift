import FairArchive
import Foundation
internal import CCurl

/// Everything the C callbacks of one transfer work on. libcurl's callbacks are C function
/// pointers, which cannot capture: this box travels as their user-data pointer
/// (CURLOPT_WRITEDATA, HEADERDATA, READDATA, SEEKDATA, XFERINFODATA).
final class TransferContext {
    let url: String
    let sink: ByteSink?
    let maxBodyBytes: Int
    let source: RequestBodySource?
    let progress: ((Int64, Int64) -> Void)?

    /// The headers of the latest response (a new status line starts over).
    private(set) var headers = HTTPHeaders()
    /// The status of the latest status line, to decide where the body goes.
    private(set) var status = 0
    private(set) var body: [UInt8] = []
    /// The first error raised inside a callback; it aborted the transfer.
    private(set) var error: Error?
    private var lastProgress: (sent: Int64, received: Int64) = (-1, -1)

    init(url: String, sink: ByteSink?, maxBodyBytes: Int, source: RequestBodySource?,
         progress: ((Int64, Int64) -> Void)?) {
        self.url = url
        self.sink = sink
        self.maxBodyBytes = maxBodyBytes
        self.source = source
        self.progress = progress
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> TransferContext {
        Unmanaged<TransferContext>.fromOpaque(pointer!).takeUnretainedValue()
    }

    /// Response body bytes: to the sink for a 2xx response, otherwise into `body`.
    /// Returns false to abort the transfer.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let sink, (200...299).contains(status) {
            do {
                try sink.write(bytes)
            } catch {
                fail(HTTPError.sink(url: url, message: String(describing: error)))
                return false
            }
        } else {
            guard bytes.count <= maxBodyBytes - body.count else {
                fail(HTTPError.bodyTooLarge(url: url, limit: maxBodyBytes))
                return false
            }
            body.append(contentsOf: bytes)
        }
        return true
    }

    /// One header line as libcurl delivers it, CRLF included.
    func receiveHeader(_ bytes: UnsafeRawBufferPointer) {
        var line = String(decoding: bytes, as: UTF8.self)
        // "\r\n" is a single Character in Swift, so test for any newline rather than "\r" or "\n".
        while let last = line.last, last.isNewline { line.removeLast() }
        if line.hasPrefix("HTTP/") {
            // A new response (after 100 Continue or within a libcurl-internal retry): start over.
            headers = HTTPHeaders()
            body = []
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
            return
        }
        if line.isEmpty {
            // The end of a head: a final one (not 100 Continue) is worth telling an observing sink.
            if status >= 200, let observer = sink as? ResponseHeadObserver { observer.responseStarted(status: status) }
            return
        }
        if line.first == " " || line.first == "\t" {
            headers.continueLast(line.trimmingCharacters(in: .whitespaces))
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        headers.add(name, value)
    }

    func readBody(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let source else { return 0 }
        do {
            return try source.read(into: buffer)
        } catch {
            fail(error)
            return fair_curl_readfunc_abort
        }
    }

    func seekBody(to offset: Int64) -> Bool {
        source?.seek(to: offset) ?? (offset == 0)
    }

    func reportProgress(sent: Int64, received: Int64) {
        guard let progress, (sent, received) != lastProgress else { return }
        lastProgress = (sent, received)
        progress(sent, received)
    }

    private func fail(_ error: Error) {
        if self.error == nil { self.error = error }
    }
}

/// The C callbacks, installed on every transfer.
enum CurlCallbacks {
    static let write: curl_write_callback = { data, size, count, userData in
        let context = TransferContext.from(userData)
        let total = size * count
        guard let data else { return total }
        return context.receive(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
    }

    static let header: curl_write_callback = { data, size, count, userData in
        let context = TransferContext.from(userData)
        let total = size * count
        if let data { context.receiveHeader(UnsafeRawBufferPointer(start: data, count: total)) }
        return total
    }

    static let read: curl_read_callback = { buffer, size, count, userData in
        let context = TransferContext.from(userData)
        guard let buffer else { return 0 }
        return context.readBody(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
    }

    /// libcurl rewinds the body when it must send it again, e.g. when a reused keep-alive
    /// connection turns out to be closed.
    static let seek: curl_seek_callback = { userData, offset, origin in
        let context = TransferContext.from(userData)
        guard origin == SEEK_SET, context.seekBody(to: Int64(offset)) else { return fair_curl_seekfunc_fail }
        return fair_curl_seekfunc_ok
    }

    static let transferInfo: curl_xferinfo_callback = { userData, _, received, _, sent in
        TransferContext.from(userData).reportProgress(sent: Int64(sent), received: Int64(received))
        return 0
    }
}
