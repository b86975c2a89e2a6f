import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Threads that connect to a port, send a request line and hang up, as fast as they can, until
/// stopped: clients arriving while a server stops.
final class ConnectionFlood: @unchecked Sendable {
    private let port: Int
    private let lock = NSLock()
    private var running = true
    private var connected = 0
    private var threads: [Thread] = []
    private let finished = DispatchGroup()

    init(port: Int) { self.port = port }

    var connections: Int { lock.withLock { connected } }

    func start(threads count: Int) {
        for _ in 0..<count {
            finished.enter()
            let thread = Thread { [self] in
                while lock.withLock({ running }) {
                    if connectOnce() { lock.withLock { connected += 1 } }
                }
                finished.leave()
            }
            threads.append(thread)
            thread.start()
        }
    }

    func stop() {
        lock.withLock { running = false }
        finished.wait()
    }

    private func connectOnce() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // A connection caught in a full accept queue would wait a whole second for its SYN to be
        // sent again; on Linux a send timeout bounds connect too.
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { return false }
        let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        return true
    }
}
