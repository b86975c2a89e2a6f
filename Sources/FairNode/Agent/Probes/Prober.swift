import Foundation

/// Runs one probe attempt against a pod address: httpGet (status 200–399 succeeds) and tcpSocket
/// (a connection succeeds) over plain sockets with the probe's timeout. exec needs a way to run a
/// command inside a container, which `ContainerRuntime` does not offer: such probes are reported
/// as succeeding, so that a declared exec liveness probe never kills a healthy container.
enum Prober {
    struct Result: Equatable {
        var success: Bool
        var message: String
    }

    static func run(_ action: ProbeSpec.Action, podIP: String, timeout: TimeInterval) -> Result {
        switch action {
        case let .http(host, port, path, headers, https):
            return http(host: host ?? podIP, port: port, path: path, headers: headers, https: https, timeout: timeout)
        case let .tcp(host, port):
            let deadline = Date().addingTimeInterval(timeout)
            switch ProbeSocket.connect(host: host ?? podIP, port: port, deadline: deadline) {
            case let .success(socket):
                socket.close()
                return Result(success: true, message: "")
            case let .failure(error):
                return Result(success: false, message: "dial tcp \(host ?? podIP):\(port): \(error.message)")
            }
        case .exec:
            return Result(success: true, message: "exec probes are not run by this node (no exec in the container runtime)")
        case let .invalid(message):
            return Result(success: false, message: message)
        }
    }

    private static func http(host: String, port: Int, path: String, headers: [(String, String)], https: Bool, timeout: TimeInterval) -> Result {
        let url = "\(https ? "https" : "http")://\(host):\(port)\(path)"
        let deadline = Date().addingTimeInterval(timeout)
        // HTTPS probes check that the port accepts connections (kubelet does not verify the
        // certificate either); the status code needs TLS, which this prober does not speak.
        let socket: ProbeSocket
        switch ProbeSocket.connect(host: host, port: port, deadline: deadline) {
        case let .success(connected): socket = connected
        case let .failure(error): return Result(success: false, message: "Get \"\(url)\": dial tcp: \(error.message)")
        }
        defer { socket.close() }
        if https { return Result(success: true, message: "") }
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: kube-probe/1.30\r\nAccept: */*\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        if let error = socket.send(Array(request.utf8), deadline: deadline) {
            return Result(success: false, message: "Get \"\(url)\": \(error.message)")
        }
        switch socket.readStatusLine(deadline: deadline) {
        case let .success(line):
            // "HTTP/1.1 200 OK"
            let fields = line.split(separator: " ")
            guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let code = Int(fields[1]) else {
                return Result(success: false, message: "Get \"\(url)\": malformed HTTP response \"\(line.prefix(80))\"")
            }
            if (200..<400).contains(code) { return Result(success: true, message: "") }
            return Result(success: false, message: "HTTP probe failed with statuscode: \(code)")
        case let .failure(error):
            return Result(success: false, message: "Get \"\(url)\": \(error.message)")
        }
    }
}
