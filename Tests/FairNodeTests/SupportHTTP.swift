import Foundation

/// A plain HTTP/1.1 GET over a socket, reading until the server closes: enough to check the
/// log endpoint's status, body, and that a follow ends on its own.
struct TestHTTPResponse {
    var status: Int
    var body: String
}

enum TestHTTP {
    static func get(host: String = "127.0.0.1", port: Int, path: String, token: String?, timeout: TimeInterval = 10) throws -> TestHTTPResponse {
        let descriptor = try connect(host: host, port: port)
        defer { close(descriptor) }
        var timeoutValue = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeoutValue, socklen_t(MemoryLayout<timeval>.size))
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        request += "\r\n"
        _ = request.utf8CString.withUnsafeBufferPointer { send(descriptor, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { received.append(contentsOf: buffer[..<count]); continue }
            if count == 0 { break }
            throw TestHTTPError(message: "read from 127.0.0.1:\(port)\(path) failed or timed out: \(String(cString: strerror(errno)))")
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n") else { throw TestHTTPError(message: "no HTTP response: \(text)") }
        let head = text[..<headerEnd.lowerBound]
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var body = String(text[headerEnd.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return TestHTTPResponse(status: status, body: body)
    }

    private static func dechunk(_ text: String) -> String {
        var rest = Substring(text)
        var output = ""
        while let lineEnd = rest.range(of: "\r\n") {
            guard let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8)
            output += String(decoding: bytes.prefix(size), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size + 2), as: UTF8.self))
        }
        return output
    }

    static func connect(host: String, port: Int) throws -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(descriptor)
            throw TestHTTPError(message: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }
}

struct TestHTTPError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A tiny HTTP server on a pod's address, answering every request with `status` — the process a
/// readiness probe would reach in a real pod.
final class TestHTTPListener: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32
    private let lock = NSLock()
    private var status = 200
    private var closed = false
    private let finished = DispatchSemaphore(value: 0)

    init(host: String, port requested: Int = 0, status: Int = 200) throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listening, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(requested).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listening, 16) == 0 else {
            Glibc.close(listening)
            throw TestHTTPError(message: "cannot listen on \(host): \(String(cString: strerror(errno)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) }
        }
        descriptor = listening
        port = Int(UInt16(bigEndian: actual.sin_port))
        self.status = status
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    func respond(with status: Int) {
        lock.lock(); defer { lock.unlock() }
        self.status = status
    }

    func close() {
        lock.lock()
        let wasClosed = closed
        closed = true
        lock.unlock()
        guard !wasClosed else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
        finished.wait()
    }

    private func serve() {
        defer { finished.signal() }
        while true {
            let client = accept(descriptor, nil, nil)
            if client < 0 { return }
            var buffer = [UInt8](repeating: 0, count: 2048)
            _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            lock.lock()
            let status = self.status
            lock.unlock()
            let response = "HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            _ = response.utf8CString.withUnsafeBufferPointer { send(client, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
            Glibc.close(client)
        }
    }
}
