import Foundation

/// A TCP connection for one probe attempt, every step bounded by the probe's deadline.
final class ProbeSocket {
    struct Failure: Error { let message: String }

    private var descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close() }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    static func connect(host: String, port: Int, deadline: Date) -> Result<ProbeSocket, Failure> {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            return .failure(Failure(message: "\(host) is not an IPv4 address"))
        }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return .failure(Failure(message: String(cString: strerror(errno)))) }
        let socket = ProbeSocket(descriptor: descriptor)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            guard errno == EINPROGRESS else { return .failure(Failure(message: "connect: \(String(cString: strerror(errno)))")) }
            guard socket.wait(for: Int16(POLLOUT), deadline: deadline) else {
                return .failure(Failure(message: "i/o timeout"))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 { return .failure(Failure(message: "connect: \(String(cString: strerror(error)))")) }
        }
        return .success(socket)
    }

    func send(_ bytes: [UInt8], deadline: Date) -> Failure? {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                offset += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(for: Int16(POLLOUT), deadline: deadline) else { return Failure(message: "i/o timeout") }
            } else {
                return Failure(message: "write: \(String(cString: strerror(errno)))")
            }
        }
        return nil
    }

    /// The response's first line, without reading the rest of the body.
    func readStatusLine(deadline: Date) -> Result<String, Failure> {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while received.count < 8192 {
            if let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
                return .success(String(decoding: received[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: buffer[..<count])
            } else if count == 0 {
                return .failure(Failure(message: "EOF before the status line"))
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                guard wait(for: Int16(POLLIN), deadline: deadline) else {
                    return .failure(Failure(message: "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"))
                }
            } else {
                return .failure(Failure(message: "read: \(String(cString: strerror(errno)))"))
            }
        }
        return .failure(Failure(message: "status line too long"))
    }

    private func wait(for events: Int16, deadline: Date) -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(max(1, (remaining * 1000).rounded(.up))))
            if ready > 0 { return true }
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { return false }
            return false
        }
    }
}
